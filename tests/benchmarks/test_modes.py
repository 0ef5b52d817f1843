"""The mode records: the registry is consistent, and a new ``Mode`` needs nothing else.

The second half builds a mode that exists only in this test and passes it, through the public
API only, through planning, set-up, measuring (with the real tools, on loopback), the result,
its JSON, the HTML page and the citations of ``scan --bench``.
"""

from __future__ import annotations

import io
import os
import shutil
from dataclasses import replace

import pytest
from auditor.benchmarks import procfs
from auditor.benchmarks.annotate import annotate
from auditor.benchmarks.environment import BenchEnvironment, Route, Servers, wait_listening
from auditor.benchmarks.modes import MODES, Citation, Mode, Relative, baselines, cited, names
from auditor.benchmarks.plan import options, plan
from auditor.benchmarks.results import build
from auditor.benchmarks.session import run_benchmark
from auditor.benchmarks.settings import Capabilities, Options
from auditor.reports.bench_html import render_string
from auditor.reports.bench_json import render_json

from auditor.audit.discovery import discover_rules
from auditor.model import Finding, Resource, Severity
from auditor.model.bench import CpuUse, from_json, to_json
from auditor.model.errors import InputError

from .synthetic import ENV, RUN, NoEngine, mode_samples, standard_results


# -- the registry --------------------------------------------------------------------------------
def test_names_are_unique_and_baselines_come_first():
    assert len(set(names())) == len(MODES)
    assert names()[: len(baselines())] == baselines() == ("host-loopback", "none-loopback")


def test_relatives_are_other_known_modes_and_listed_once_each():
    pairs = [(m.name, r.reference, r.listed) for m in MODES for r in m.relatives]
    assert all(ref in names() and ref != name for name, ref, _ in pairs)
    assert sorted(listed for _, _, listed in pairs) == list(range(1, len(pairs) + 1))


def test_every_citation_names_a_real_rule_once():
    rule_ids = {r.id for r in discover_rules(include_plugins=False)}
    quoted = [c.rule_id for m in MODES for r in m.relatives for c in r.cited_by]
    assert sorted(quoted) == ["HOST004", "NET001", "NET003", "PORT001"]
    assert set(quoted) <= rule_ids
    assert cited("HOST004") == ("published-proxy", "published-nat", "the userland proxy vs kernel DNAT")
    assert cited("HOST002") is None


def test_only_host_loopback_runs_without_containers():
    assert [m.name for m in MODES if not m.containers] == ["host-loopback"]
    assert [m.name for m in MODES if m.reveals_proxy] == ["published-proxy"]


def test_paths_of_published_modes():
    by_name = {m.name: m for m in MODES}
    busy, idle, unseen = CpuUse(proxy=40.0), CpuUse(proxy=0.5), CpuUse()
    assert by_name["published-proxy"].path(busy, True) == "userland proxy (docker-proxy)"
    assert by_name["published-proxy"].path(idle, True) == "kernel DNAT"
    assert by_name["published-proxy"].path(unseen, False) == "kernel DNAT (userland proxy disabled)"
    assert by_name["published-nat"].path(unseen, False) == "kernel DNAT"
    assert by_name["bridge"].path(busy, True) is None


# -- a mode that exists only here ------------------------------------------------------------------
NEW = "loopback-again"


def _loopback_again(bench: BenchEnvironment) -> Route:
    """The set-up a new mode's author writes: servers on the host, a route to them."""
    ports = [procfs.free_port() for _ in range(3)]
    iperf = bench.spawn(["iperf3", "-s", "-B", "127.0.0.1", "-p", str(ports[0])])
    sockperf = bench.spawn(["sockperf", "server", "--tcp", "-i", "127.0.0.1", "-p", str(ports[1])])
    conn = bench.connrate_server(None, ports[2], "127.0.0.1")
    wait_listening(os.getpid(), ports, f"{NEW} servers")
    return Route(NEW, None, "127.0.0.1", ports[0], ports[1], ports[2], Servers(iperf.pid, sockperf.pid, conn))


def _needs_udp(opts: Options, _caps: Capabilities) -> str | None:
    return None if opts.udp else "not run without --udp (a rule of this test)"


EXTRA = Mode(
    NEW,
    "host process to host process over 127.0.0.1 once more (a mode of this test only)",
    _loopback_again,
    requires=_needs_udp,
    containers=False,
    relatives=(Relative("host-loopback", 99, (Citation("TEST001", "the same path measured twice"),)),),
    path=lambda _cpu, _userland: "loopback, twice",
)
REGISTRY = (*MODES, EXTRA)


def finding(rule_id: str) -> Finding:
    return Finding(
        rule_id=rule_id,
        severity=Severity.LOW,
        title="t",
        message="Measured twice.",
        resource=Resource("host", "h"),
        location=None,
        evidence=(),
        remediation="r",
        fingerprint="fp",
    )


def test_a_new_mode_is_chosen_planned_and_skipped_by_its_own_rule():
    opts = options(modes=f"bridge,{NEW}", repeat=5, seed=1, registry=REGISTRY)
    assert opts.modes == ("bridge", NEW)
    planned = {p.name: p for p in plan(opts, Capabilities(), REGISTRY)}
    assert list(planned) == ["host-loopback", "none-loopback", "bridge", NEW]
    assert planned[NEW].skipped_reason == "not run without --udp (a rule of this test)"
    assert plan(replace(opts, udp=True), Capabilities(), REGISTRY)[-1].runnable
    with pytest.raises(InputError, match=f"unknown mode\\(s\\) {NEW}"):
        options(modes=NEW)  # not in the shipped registry


def test_a_new_mode_reaches_the_result_its_json_page_and_citations():
    opts = options(modes=f"bridge,{NEW}", repeat=5, seed=1, udp=True, registry=REGISTRY)
    planned = plan(opts, Capabilities(), REGISTRY)
    results = standard_results()
    results[NEW] = mode_samples([11.0, 12.0, 11.5, 9.5, 10.0])
    result = build(planned, results, {}, ENV, RUN, opts)
    mine = result.mode(NEW)
    assert mine.description.endswith("(a mode of this test only)")
    assert mine.measured.path == "loopback, twice"
    assert [c.reference for c in mine.measured.ratio_to_baseline] == ["host-loopback", "none-loopback"]
    assert [(c.mode, c.reference) for c in result.comparisons][-1] == (NEW, "host-loopback")
    assert from_json(to_json(result)) == result
    assert f"<td>{NEW}</td>" in render_string(result)
    (quoted,) = annotate([finding("TEST001")], result, REGISTRY)
    assert quoted.message.startswith(
        "Measured twice; measured on this host (the same path measured twice): throughput "
    )
    assert dict(quoted.evidence)[f"throughput_{NEW}"] == "11.00 Gbit/s"


@pytest.mark.slow
def test_a_new_mode_is_set_up_measured_and_removed_by_the_real_run():
    missing = [t for t in ("iperf3", "sockperf") if not shutil.which(t)]
    if missing:
        pytest.fail(f"benchmark tools missing: {missing} (scripts/setup-env.sh installs them)")
    registry = (MODES[0], EXTRA)  # host-loopback is the only baseline: no container, no engine
    opts = options(modes=NEW, duration=1, repeat=1, warmup=0, omit=0, udp=True, seed=3, registry=registry)
    result = run_benchmark(opts, NoEngine(), registry=registry)
    assert [m.mode for m in result.modes] == ["host-loopback", NEW]
    mine = result.measured(NEW)
    assert mine is not None, result.mode(NEW)
    assert mine.throughput_bps.median > 0 and mine.latency_us.p50 > 0 and mine.udp is not None
    assert mine.path == "loopback, twice"
    assert [(c.mode, c.reference) for c in result.comparisons] == [(NEW, "host-loopback")]
    assert sorted(result.run.order) == ["host-loopback#1", f"{NEW}#1"]
    out = io.StringIO()
    render_json(result, out)
    assert from_json(to_json(result)) == result and NEW in out.getvalue()
    leftover = [
        pid
        for pid in map(int, filter(str.isdigit, os.listdir("/proc")))
        if procfs.environ_has(pid, f"AUDITOR_BENCH_PID={os.getpid()}".encode())
    ]
    assert leftover == []
