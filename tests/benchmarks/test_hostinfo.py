"""The MTU is asked of the kernel in the benchmark's own network namespace."""

from __future__ import annotations

from pathlib import Path

from auditor.benchmarks import hostinfo


def test_mtu_of_loopback_is_the_kernels():
    assert hostinfo.mtu("lo") == int(Path("/sys/class/net/lo/mtu").read_text())


def test_mtu_of_an_interface_that_is_not_there_is_unknown():
    assert hostinfo.mtu("audnope0") is None
    assert hostinfo.mtu("") is None
    assert hostinfo.mtu("x" * 16) is None  # longer than IFNAMSIZ - 1: no such interface name
