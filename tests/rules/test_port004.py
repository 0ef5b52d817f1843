"""PORT004: wide host port ranges."""

from __future__ import annotations

from auditor.rules.port004_wide_range import RULE, runs
from support.builders import container, port, run_rule, snapshot


def test_range_entry_of_100_ports_is_one_finding_at_its_line():
    c = container("sip", ports=[port(p, protocol="udp", line=12) for p in range(10000, 10100)])
    [f] = run_rule(RULE, snapshot(c))
    assert (f.rule_id, f.resource.name, f.location.line) == ("PORT004", "sip", 12)
    assert f.message == "sip publishes 100 host ports 10000-10099/udp on 0.0.0.0."
    assert dict(f.evidence)["binding"] == "0.0.0.0:10000-10099->10000-10099/udp"


def test_99_ports_is_not_wide():
    c = container("sip", ports=[port(p, protocol="udp", line=12) for p in range(10000, 10099)])
    assert run_rule(RULE, snapshot(c)) == []


def test_one_container_port_on_a_host_range_binds_one_port():
    """``12400-12500:1240``: Docker binds one port of the host range, not 101."""
    c = container("x", ports=[port(1240, 12400, host_port_end=12500, line=5)])
    assert run_rule(RULE, snapshot(c)) == []


def test_addresses_of_other_entries_stay_out_of_the_message():
    ports = [port(p, host_ip="127.0.0.1", line=4) for p in range(20000, 20150)]
    ports += [port(80, host_ip="10.0.0.5", line=5), port(81, host_ip="0.0.0.0", line=6)]
    [f] = run_rule(RULE, snapshot(container("x", ports=ports)))
    assert f.message == "x publishes 150 host ports 20000-20149/tcp on 127.0.0.1."


def test_separate_entries_are_not_joined():
    ports = [port(p, line=4) for p in range(30000, 30060)] + [port(p, line=5) for p in range(30060, 30120)]
    assert run_rule(RULE, snapshot(container("x", ports=ports))) == []


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
