"""Every documented ``ports``/``expose`` form -> exact bindings; what Docker rejects raises."""

from __future__ import annotations

import re

import pytest

from auditor.collectors.compose.ports import PortSpecError, parse_expose, parse_port
from auditor.model.records import PortBinding


def b(
    container: int, host: int | None = None, ip: str = "", proto: str = "tcp", end: int | None = None
) -> PortBinding:
    return PortBinding(
        container_port=container, protocol=proto, host_ip=ip, host_port=host, host_port_end=end
    )


SHORT = {
    "3000": [b(3000)],
    "3000-3002": [b(3000), b(3001), b(3002)],
    "8000:8000": [b(8000, 8000)],
    "22:22": [b(22, 22)],
    "9090-9091:8080-8081": [b(8080, 9090), b(8081, 9091)],
    "49100:22": [b(22, 49100)],
    "127.0.0.1:8001:8001": [b(8001, 8001, "127.0.0.1")],
    "127.0.0.1:5000-5001:5000-5001": [b(5000, 5000, "127.0.0.1"), b(5001, 5001, "127.0.0.1")],
    "127.0.0.1::5000": [b(5000, None, "127.0.0.1")],
    "6060:6060/udp": [b(6060, 6060, proto="udp")],
    "6060:6060/UDP": [b(6060, 6060, proto="udp")],
    "7002:7002/sctp": [b(7002, 7002, proto="sctp")],
    "80/": [b(80)],
    "[::1]:6001:6001": [b(6001, 6001, "::1")],
    "::1:6000:6000": [b(6000, 6000, "::1")],
    "[::]:7000:7000": [b(7000, 7000, "::")],
    ":::7000:7000": [b(7000, 7000, "::")],
    "[2001:db8::1]::7001": [b(7001, None, "2001:db8::1")],
    "12400-12500:1240": [b(1240, 12400, end=12500)],
    "0:80": [b(80)],
    "00080:80": [b(80, 80)],
}


@pytest.mark.parametrize("spec", list(SHORT))
def test_short_syntax(spec: str) -> None:
    assert parse_port(spec) == SHORT[spec]


def test_bare_number_is_an_ephemeral_port() -> None:
    assert parse_port(8080) == [b(8080)]


LONG = [
    ({"target": 80, "published": 8080}, [b(80, 8080)]),
    (
        {"target": 80, "published": "8080", "host_ip": "127.0.0.1", "protocol": "udp", "mode": "host"},
        [b(80, 8080, "127.0.0.1", "udp")],
    ),
    (
        {"target": "82", "published": "8084-8090", "app_protocol": "http", "name": "web"},
        [b(82, 8084, end=8090)],
    ),
    ({"target": 83}, [b(83)]),
    ({"target": 84, "published": ""}, [b(84)]),
    ({"target": 85, "host_ip": "::1", "published": 8091}, [b(85, 8091, "::1")]),
    ({"target": 86, "published": "9000-9000"}, [b(86, 9000)]),
]


@pytest.mark.parametrize(("entry", "expected"), LONG)
def test_long_syntax(entry: dict, expected: list[PortBinding]) -> None:
    assert parse_port(entry) == expected


REJECTED = {
    "8000:80-81": "invalid ranges",
    "8000-8002:80-81": "invalid ranges",
    "80:80/icmp": "invalid protocol 'icmp'",
    "80//": "invalid protocol '/'",
    "300.1.1.1:80:80": "invalid IP address 300.1.1.1",
    "01.2.3.4:80:80": "invalid IP address 01.2.3.4",
    "fe80::1%eth0:80:80": "invalid IP address",
    "70000:80": "invalid host port '70000'",
    "http:80": "invalid host port 'http'",
    "80:+80": "invalid container port '+80'",
    "8080:": "no container port specified",
    "81-80": "invalid container port '81-80'",
    "0": "container port 0",
    "[::1:80:80": "invalid IP address",
}


@pytest.mark.parametrize("spec", list(REJECTED))
def test_rejected_like_docker(spec: str) -> None:
    with pytest.raises(PortSpecError, match=re.escape(REJECTED[spec])):
        parse_port(spec)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"published": 80}, "no target"),
        ({"target": "eighty"}, "target must be a number"),
        ({"target": 80, "published": "80-70"}, "invalid published port"),
        ({"target": 80, "protocol": "icmp"}, "invalid protocol"),
        ({"target": 80, "host_ip": "localhost"}, "invalid IP address: localhost"),
        ({"target": True}, "target must be a number"),
    ],
)
def test_long_syntax_rejected(entry: dict, message: str) -> None:
    with pytest.raises(PortSpecError, match=message):
        parse_port(entry)


def test_expose_forms() -> None:
    assert parse_expose("3000") == [PortBinding(3000, published=False)]
    assert parse_expose(4000) == [PortBinding(4000, published=False)]
    assert parse_expose("4001-4002/udp") == [
        PortBinding(4001, "udp", published=False),
        PortBinding(4002, "udp", published=False),
    ]
    with pytest.raises(PortSpecError):
        parse_expose("40a")
