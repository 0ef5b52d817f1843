"""NET009: one finding per shared network whose members keep the default NET_RAW."""

from __future__ import annotations

from auditor.rules.net009_net_caps import RULE
from support.builders import container, run_rule, snapshot

from auditor.model.severity import Severity


def test_one_finding_per_network_naming_every_member():
    snap = snapshot(container("web"), container("db"), container("vpn", cap_drop=("NET_RAW",)))
    [f] = run_rule(RULE, snap)
    assert (f.rule_id, f.severity, f.resource.kind, f.resource.name) == (
        "NET009",
        Severity.LOW,
        "network",
        "appnet",
    )
    assert f.message == (
        "network appnet: 2 of 3 containers keep the default NET_RAW capability (db, web); "
        "any of them can spoof or sniff the others' traffic."
    )
    assert dict(f.evidence)["members"] == "db, web"


def test_privileged_members_are_left_to_net010_and_cap_prefix_and_all_drop():
    snap = snapshot(
        container("p", privileged=True),
        container("q", cap_drop=("CAP_NET_RAW",)),
        container("r", cap_drop=("all",)),
    )
    assert run_rule(RULE, snap) == []


def test_alone_on_a_network_or_every_member_dropped_is_silent():
    assert run_rule(RULE, snapshot(container("solo"))) == []
    snap = snapshot(container("a", cap_drop=("NET_RAW",)), container("b", cap_drop=("CAP_NET_RAW",)))
    assert run_rule(RULE, snap) == []


def test_each_shared_network_once():
    snap = snapshot(
        container("x", networks=("front", "back")),
        container("y", networks=("front", "back")),
        container("z", networks=("front",)),
    )
    got = {f.resource.name: dict(f.evidence)["members"] for f in run_rule(RULE, snap)}
    assert got == {"front": "x, y, z", "back": "x, y"}


def test_host_mode_and_joined_namespace_members_do_not_count():
    snap = snapshot(
        container("a"),
        container("h", networks=(), network_mode="host"),
        container("b", networks=(), network_mode="container:id-a"),
    )
    assert run_rule(RULE, snap) == []
