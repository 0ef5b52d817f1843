"""PORT004: wide host port ranges."""

from __future__ import annotations

from auditor.rules.port004_wide_range import RULE, runs
from support.builders import container, port, run_rule, snapshot


def test_range_binding_of_100_ports_fires():
    c = container("sip", ports=[port(10000, 10000, protocol="udp", host_port_end=10099)])
    [f] = run_rule(RULE, snapshot(c))
    assert (f.rule_id, f.resource.name) == ("PORT004", "sip")
    assert f.message == "sip publishes 100 host ports 10000-10099/udp on 0.0.0.0."


def test_99_ports_is_not_wide():
    c = container("sip", ports=[port(10000, 10000, protocol="udp", host_port_end=10098)])
    assert run_rule(RULE, snapshot(c)) == []


def test_running_container_lists_each_port_separately():
    ports = [port(p, p, host_ip=ip) for p in range(8000, 8120) for ip in ("0.0.0.0", "::")]
    [f] = run_rule(RULE, snapshot(container("game", ports=ports)))
    assert f.message == "game publishes 120 host ports 8000-8119/tcp on 0.0.0.0, ::."


def test_gaps_split_runs_and_protocols_are_separate():
    ports = [port(p, p) for p in range(1, 60)] + [port(p, p) for p in range(61, 120)]
    ports += [port(p, p, protocol="udp") for p in range(1, 60)]
    assert run_rule(RULE, snapshot(container("x", ports=ports))) == []


def test_ephemeral_ports_do_not_count():
    ports = [port(p, published=True, host_ip="") for p in range(1, 200)]
    ports = [p.__class__(**{**p.__dict__, "host_port": None}) for p in ports]
    assert run_rule(RULE, snapshot(container("x", ports=ports))) == []


def test_runs_helper():
    assert runs({1, 2, 3, 7, 9, 10}) == [(1, 3), (7, 7), (9, 10)]
