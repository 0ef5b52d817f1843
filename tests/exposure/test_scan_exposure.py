"""The scan's use of the exposure model: dumps carried in the snapshot, the matrix computed once
by the pipeline, and the same answers from a saved snapshot file as from the live reading."""

from __future__ import annotations

import json
from dataclasses import replace

from support.exposure_fixtures import load_scenario
from support.scan_fixtures import raw_of

from auditor.audit.pipeline import with_exposure
from auditor.collectors.raw import dumps, normalize_raw, raw_from_json
from auditor.exposure.view import exposure_view
from auditor.model.exposure import HostDumps, Reach, host_dumps_from_json


def test_a_saved_snapshot_carries_the_dumps_and_gives_the_same_exposure_as_the_live_reading():
    raw = raw_of("default")
    saved = raw_from_json(json.loads(dumps(raw)), "saved.json")
    assert saved.dumps == raw.dumps
    live, offline = with_exposure(normalize_raw(raw)), with_exposure(normalize_raw(saved))
    assert live.exposure is not None and offline.exposure == live.exposure
    assert live.host_dumps == offline.host_dumps == raw.dumps


def test_the_pipeline_computes_what_the_analysis_answers():
    snap = with_exposure(normalize_raw(raw_of("default")))
    scenario = load_scenario("default")
    expected = exposure_view(scenario.analyze())
    assert snap.exposure is not None
    assert [z.id for z in snap.exposure.zones] == [z.id for z in expected.zones]
    assert snap.exposure == expected  # the daemon's facts add nothing here: the dumps hold the proxies
    cache = snap.exposure.port("cache", 6379)
    assert cache is not None and cache.bindings == ()
    lan = cache.first(Reach.REACHABLE, frozenset({"lan"}))
    assert lan is not None and (lan.zone, lan.via, lan.destination) == (
        "lan:eth0",
        "direct",
        "198.18.32.3:6379",
    )
    assert lan.trace.startswith(
        "route forward via br-24787d536495 -> filter FORWARD rule 1 -> DOCKER-USER rule 1"
    )
    assert [(c.zone, c.verdict) for c in cache.cells] == [
        ("lan:eth0", Reach.REACHABLE),
        ("internet:eth0", Reach.BLOCKED),
        ("host", Reach.REACHABLE),
        ("network:appnet", Reach.REACHABLE),
        ("network:bridge", Reach.BLOCKED),
        ("network:othernet", Reach.BLOCKED),
    ]


def test_no_dumps_no_exposure_and_a_broken_dump_is_a_note_not_a_verdict():
    raw = raw_of("default")
    assert with_exposure(normalize_raw(replace(raw, dumps=None))).exposure is None
    broken = with_exposure(normalize_raw(replace(raw, dumps=replace(raw.dumps, ip_addr="[{"))))
    assert broken.exposure is None
    assert len(broken.notes) == 1 and broken.notes[0].startswith("exposure not analysed: ")


def test_unread_dumps_stay_unknown_and_never_become_blocked():
    raw = raw_of("default")
    only_network = replace(raw.dumps, iptables_save=None, ip6tables_save=None, nft_json=None)
    snap = with_exposure(normalize_raw(replace(raw, dumps=only_network)))
    assert snap.exposure is not None
    web = snap.exposure.port("web", 80)
    assert web is not None and web.outside is Reach.UNKNOWN
    assert {c.verdict for c in web.cells if c.kind == "lan"} == {Reach.UNKNOWN}


def test_host_dumps_json_keeps_only_strings_of_known_fields():
    assert host_dumps_from_json(
        {"sysctl": "a = 1\n", "ip_addr": 3, "bogus": "x", "source": "s"}
    ) == HostDumps(sysctl="a = 1\n", source="s")
    assert host_dumps_from_json(["not", "an", "object"]) is None
    assert HostDumps(sysctl="a = 1\n").to_json() == {"source": "", "sysctl": "a = 1\n"}


def test_a_scan_of_the_default_engine_reports_the_direct_routing_exposure_through_the_pipeline():
    from datetime import UTC, datetime

    from auditor.audit.discovery import builtin_rules
    from auditor.audit.pipeline import evaluate
    from auditor.collectors.base import Collected

    raw = raw_of("default")
    result = evaluate([Collected(raw.target, normalize_raw(raw), raw=raw)], builtin_rules(), None,
                      datetime.now(UTC), 0.0)  # fmt: skip
    direct = sorted((f.resource.name, f.key) for f in result.findings if f.rule_id == "NET012")
    assert direct == [("cache", "direct:6379/tcp"), ("web", "direct:5432/tcp")]
    [snap] = result.snapshots
    assert snap.exposure is not None  # the result's snapshots are the analysed ones (reporters read them)
    port001 = {f.resource.name: f for f in result.findings if f.rule_id == "PORT001"}
    assert port001["web"].message.endswith(
        "The host's firewall lets clients from outside reach it (lan:eth0, internet:eth0, e.g. at 198.18.0.1:8080)."
    )


def test_a_fault_in_the_analysis_is_a_note_and_the_scan_goes_on(monkeypatch):
    import auditor.exposure.view as view  # the stage loads the analysis only when it runs it

    def broken(inputs):
        raise KeyError("no such chain")

    monkeypatch.setattr(view, "exposure_from", broken)
    snap = with_exposure(normalize_raw(raw_of("default")))
    assert snap.exposure is None
    assert snap.notes == ("exposure not analysed: internal error KeyError: 'no such chain'",)
