"""The rule engine (crash isolation, fingerprints, ordering) and rule discovery."""

from __future__ import annotations

from dataclasses import replace
from importlib.metadata import EntryPoint

import pytest
from support.builders import container, port, snapshot

from auditor.audit.discovery import DiscoveryError, RuleSource, discover_rules, load_entry_point, merge
from auditor.audit.run import run_rules
from auditor.model.findings import fingerprint
from auditor.model.records import Resource
from auditor.model.rule import Observation, Rule, RuleMeta
from auditor.model.severity import Severity


def _meta(rule_id: str) -> RuleMeta:
    return RuleMeta(rule_id, f"{rule_id} problem", Severity.LOW, "because", "fix it")


def _boom(snap):
    raise RuntimeError("kaboom")


def _every_container(snap):
    for c in snap.containers:
        yield Observation(c, f"{c.name} seen", key="k")


CRASHING = Rule(_meta("TEST900"), _boom)
SEEING = Rule(_meta("TEST901"), _every_container)


def test_a_crashing_rule_is_reported_and_the_others_still_run():
    run = run_rules(snapshot(container("a")), [CRASHING, SEEING])
    assert [(e.rule_id, e.target) for e in run.errors] == [("TEST900", "testhost")]
    assert "RuntimeError: kaboom" in run.errors[0].error
    assert [(f.rule_id, f.resource.name, f.message) for f in run.findings] == [("TEST901", "a", "a seen")]


def test_fingerprints_use_names_not_ids():
    first = run_rules(snapshot(container("a")), [SEEING]).findings[0]
    recreated = container("a")
    recreated = replace(recreated, id="another-id")
    second = run_rules(snapshot(recreated), [SEEING]).findings[0]
    assert first.fingerprint == second.fingerprint
    other = fingerprint("TEST901", "testhost", Resource("container", "b"), "k")
    assert other != first.fingerprint


def test_duplicate_ids_are_rejected():
    with pytest.raises(DiscoveryError, match="duplicate rule id 'TEST901'"):
        merge([RuleSource("a", (SEEING,)), RuleSource("b", (SEEING,))])


def test_rules_are_sorted_by_id():
    rules = merge([RuleSource("a", (SEEING, CRASHING))])
    assert [r.id for r in rules] == ["TEST900", "TEST901"]


def test_builtin_rules_are_discovered_with_unique_ids():
    ids = [r.id for r in discover_rules()]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    assert {"PORT001", "PORT002", "NET001", "NET003", "HOST002"} <= set(ids)


def test_a_broken_plugin_is_named():
    ep = EntryPoint(name="broken", value="no_such_module_xyz:RULES", group="auditor.rules")
    with pytest.raises(DiscoveryError, match="rule pack 'broken = no_such_module_xyz:RULES' failed to load"):
        load_entry_point(ep)


def test_a_plugin_exporting_rules_is_loaded():
    ep = EntryPoint(name="mine", value="test_engine_and_discovery_plugin:RULES", group="auditor.rules")
    import sys
    import types

    module = types.ModuleType("test_engine_and_discovery_plugin")
    module.RULES = [SEEING]
    sys.modules[module.__name__] = module
    try:
        source = load_entry_point(ep)
    finally:
        del sys.modules[module.__name__]
    assert source.rules == (SEEING,)


def test_port_builder_smoke():
    assert port(80).display() == "0.0.0.0:80->80/tcp"
    assert port(80, host_ip="::").display() == "[::]:80->80/tcp"


def test_a_crashing_rule_makes_the_scan_incomplete_exit_3():
    import time
    from datetime import UTC, datetime

    from auditor.audit.pipeline import evaluate
    from auditor.collectors.base import Collected
    from auditor.model import exit_codes

    snap = snapshot(container("a"))
    result = evaluate(
        [Collected(snap.target, snap)],
        [CRASHING, SEEING],
        Severity.CRITICAL,
        datetime.now(UTC),
        time.monotonic(),
    )
    (target,) = result.targets
    assert (target.status, target.error) == ("incomplete", "a rule crashed")
    assert result.verdict == "incomplete" and not result.complete
    assert exit_codes.for_result(result) == exit_codes.INCOMPLETE


def _same_key_twice(snap):
    for c in snap.containers:
        yield Observation(c, f"{c.name} first", key="k")
        yield Observation(c, f"{c.name} second", key="k")
        yield Observation(c, f"{c.name} first", key="k")


def test_alike_keyed_but_different_observations_are_both_kept_with_unique_fingerprints():
    run = run_rules(snapshot(container("a")), [Rule(_meta("TEST902"), _same_key_twice)])
    assert [f.message for f in run.findings] == ["a first", "a second"]
    assert len({f.fingerprint for f in run.findings}) == 2


def _dist(folder, name: str, entry_points: str | None) -> None:
    info = folder / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    if entry_points is not None:
        (info / "entry_points.txt").write_text(entry_points)


def test_the_quick_look_for_rule_packs_reads_entry_points_files(tmp_path):
    from auditor.audit.discovery import ENTRY_POINT_GROUP, may_declare

    _dist(tmp_path / "site", "other", "[console_scripts]\nother = other:main\n")
    _dist(tmp_path / "site", "bare", None)
    assert may_declare(ENTRY_POINT_GROUP, [str(tmp_path / "site"), str(tmp_path / "absent")]) is False
    _dist(tmp_path / "site", "pack", f"[{ENTRY_POINT_GROUP}]\nmine = pack.rules:RULES\n")
    assert may_declare(ENTRY_POINT_GROUP, [str(tmp_path / "site")]) is True
    (tmp_path / "lib.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)  # what it cannot see through counts as yes
    assert may_declare(ENTRY_POINT_GROUP, [str(tmp_path / "lib.zip")]) is True


def test_a_rule_pack_on_the_path_is_still_found(tmp_path, monkeypatch):
    from auditor.audit.discovery import ENTRY_POINT_GROUP, find_entry_points

    _dist(tmp_path, "pack", f"[{ENTRY_POINT_GROUP}]\nmine = pack.rules:RULES\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert [(ep.name, ep.value) for ep in find_entry_points()] == [("mine", "pack.rules:RULES")]
