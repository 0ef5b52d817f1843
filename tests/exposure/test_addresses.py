"""Address texts read by the C library's fast path give what ``ipaddress`` gives, errors too."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditor.exposure.packet import address_int, ip_text


def reference(text: str) -> tuple[int, int] | None:
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return None
    return addr.version, int(addr)


def fast(text: str) -> tuple[int, int] | None:
    try:
        return address_int(text)
    except ValueError:
        return None


@pytest.mark.parametrize(
    "text",
    ["198.18.0.1", "0.0.0.0", "255.255.255.255", "01.2.3.4", "1.2.3.04", "1.2.3", "256.1.1.1",
     " 1.2.3.4", "1.2.3.4 ", "1.2.3.4\n", "1.2.3.0x1", "\uff11.2.3.4", "1.2.3.4/8", "1..2.3",
     "::ffff:1.2.3.4", "fe80::1%eth0", "2001:db8::1", "", "1.2.3.4.5"],
)  # fmt: skip
def test_corners(text):
    assert fast(text) == reference(text)


octet = st.one_of(
    st.integers(0, 300).map(str),
    st.integers(0, 300).map(lambda n: f"0{n}"),
    st.text(alphabet="0123456789x ", min_size=0, max_size=4),
)


@given(st.lists(octet, min_size=1, max_size=6).map(".".join))
def test_dotted_texts(text):
    assert fast(text) == reference(text)


@given(st.integers(0, 2**32 - 1))
def test_v4_text_round_trip(value):
    text = ip_text(4, value)
    assert text == str(ipaddress.IPv4Address(value))
    assert address_int(text) == (4, value)
