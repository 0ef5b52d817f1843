"""HTML report without a browser: CSP, escaping, contents, topology data, the JSON round trip."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import io
import json
import re
import subprocess
import sys
from html import unescape

import pytest
from auditor.reports import html, json_report
from auditor.reports.formats import SCAN, registry
from auditor.reports.json_report import topology_json
from auditor.reports.topology import layout
from gates.cisupport import scan_result, waived_and_baselined
from markupsafe import escape
from support.builders import container, port, snapshot

from auditor.collectors.results import result_from_json
from auditor.model.bench import (
    BenchResult,
    Environment,
    Measurements,
    ModeResult,
    Percentiles,
    RunRecord,
    Summary,
)
from auditor.model.errors import InputError
from auditor.model.findings import BaselineSplit, ExpiredWaiver, PolicySummary, WaiverNote
from auditor.model.records import Container, Origin, SourceKind
from auditor.model.rule import Reference
from auditor.model.topology import TopoPort, snapshot_topology, topology_of

XSS_NAME = "<script>window.__pwned=1</script>"
XSS_ATTR = '"><img src=x onerror="window.__pwned=2">'


def render(result) -> str:
    buf = io.StringIO()
    html.render(result, buf)
    return buf.getvalue()


def shop():
    return snapshot(
        container("web", ports=[port(80, 8080)], networks=("front", "back")),
        container("admin", ports=[port(3000, host_ip="127.0.0.1")], networks=("front",)),
        container("db", ports=[port(5432, published=False)], networks=("back",)),
        container("agent", networks=(), network_mode="host"),
    )


def test_registered_for_html_and_htm_outputs():
    formats = registry()
    assert formats.renderer("html", SCAN) is html.render
    assert formats.for_path("x.html", SCAN) == "html" and formats.for_path("x.HTM", SCAN) == "html"


def test_csp_allows_exactly_the_inline_style_and_script():
    page = render(scan_result(shop()))
    csp = unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1))
    styles = re.findall(r"<style>(.*?)</style>", page, re.S)
    scripts = re.findall(r"<script>(.*?)</script>", page, re.S)
    assert len(styles) == 1 and len(scripts) == 1

    def digest(text: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"

    assert f"style-src {digest(styles[0])}" in csp
    assert f"script-src {digest(scripts[0])}" in csp
    assert csp.startswith("default-src 'none'")
    assert "unsafe-inline" not in csp
    # Nothing that CSP would block or that would fetch: no style/event attributes, no sources.
    assert not re.search(r"\sstyle=", page)
    assert not re.search(r"\son[a-z]+=", page)
    assert not re.search(r"\s(src|srcset|action)=", page)
    assert "<link" not in page and "@import" not in page and "url(" not in page


def test_summary_title_and_sections():
    result = scan_result(shop())
    page = render(result)
    counts = result.counts()
    assert counts["total"] > 0
    assert (
        f"<title>Docker network audit: {counts['total']} open findings, gate {result.verdict}</title>" in page
    )
    for sev in ("critical", "high", "medium", "low", "info"):
        assert re.search(rf'data-count="{sev}"><span class="n">{counts[sev]}</span>', page)
    assert page.count('<details class="finding') == len(result.findings)
    assert f'id="verdict" data-verdict="{result.verdict}"' in page
    for rule in result.rules_run:
        assert f"<code>{rule}</code>" in page


def test_findings_show_message_evidence_location_remediation_references():
    result = scan_result(snapshot(container("web", ports=[port(80, 8080)])), rule_ids={"PORT001"})
    (finding,) = result.findings
    page = render(result)
    assert f'<dd class="f-message">{escape(finding.message)}</dd>' in page
    for key, value in finding.evidence:
        assert f'<td class="muted">{escape(key)}</td><td><code>{escape(value)}</code></td>' in page
    assert '<span class="mono">docker://testhost/containers/web</span>' in page
    assert f"<dt>Remediation</dt><dd>{escape(finding.remediation)}</dd>" in page
    linked = [r for r in finding.references if r.url]
    assert linked and all(f'<a href="{r.url}" rel="noopener noreferrer">' in page for r in linked)


def test_hostile_names_labels_and_links_are_text():
    hostile = container(
        XSS_NAME, ports=[port(80, 8080)], networks=(XSS_ATTR,), labels={"x": XSS_ATTR}, project=XSS_ATTR
    )
    result = scan_result(snapshot(hostile))
    bad_ref = dataclasses.replace(
        result.findings[0], references=(Reference("click", "javascript:window.__pwned=3"),)
    )
    page = render(dataclasses.replace(result, findings=(bad_ref, *result.findings[1:])))
    assert "<script>window.__pwned" not in page
    assert "<img" not in page
    assert "javascript:" not in page
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in page
    assert "&#34;&gt;&lt;img src=x onerror=&#34;window.__pwned=2&#34;&gt;" in page
    data = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S).group(1)
    assert "<" not in data and json.loads(data)["findings"][0]["resource"].startswith("container/")


def test_waived_and_baseline_status_with_owner_and_expiry():
    result = scan_result(
        snapshot(container("web", ports=[port(80, 8080)]), container("api", ports=[port(81, 8081)])),
        rule_ids={"PORT001"},
    )
    first, second = result.findings
    waived = dataclasses.replace(
        first,
        status="waived",
        baseline="existing",
        waiver=WaiverNote(
            rule="PORT001",
            match="container=web",
            reason="behind the LB",
            owner="team-web@example.org",
            expires="2031-03-31",
            source="w.yaml:1",
            state="active",
        ),
    )
    new = dataclasses.replace(second, baseline="new")
    policy = PolicySummary(
        baseline=BaselineSplit(new=1, existing=1),
        expired_waivers=(
            ExpiredWaiver(
                rule="PORT002",
                match="resource=old",
                reason="r",
                owner="ops",
                expires="2020-01-01",
                source="w.yaml:3",
                findings=2,
            ),
        ),
    )
    page = render(dataclasses.replace(result, findings=(waived, new), policy=policy))
    assert "owner <strong>team-web@example.org</strong>" in page
    assert "expires <strong>2031-03-31</strong>" in page
    assert '<span class="pill st-waived">waived</span>' in page
    assert '<span class="pill st-new">new</span>' in page
    assert '<span class="pill st-existing">existing</span>' in page
    assert '<div class="tile" data-count="waived"><span class="n">1</span>' in page
    assert '<span class="pill st-new">1 new</span>' in page
    assert "<td>ops</td><td>2020-01-01</td>" in page


def test_benchmark_charts_when_present():
    measured = Measurements(Summary(2.0e10, 1.9e10, 2.1e10, ()), latency_us=Percentiles(10, 12, 20, 40))
    bench = BenchResult(
        run=RunRecord(),
        environment=Environment(collected=()),
        modes=(
            ModeResult("host", "", measured=measured),
            ModeResult("macvlan", "", skipped_reason="no parent interface"),
        ),
    )
    page = render(dataclasses.replace(scan_result(shop()), benchmark=bench))
    assert '<section id="benchmark">' in page
    assert "<title>host forward: 20 Gbit/s (19 Gbit/s to 21 Gbit/s)</title>" in page
    assert "<title>host p99: 20 µs</title>" in page
    assert "skipped: no parent interface" in page
    assert '<section id="benchmark">' not in render(scan_result(shop()))


def test_no_findings_and_incomplete_target():
    result = scan_result(snapshot(container("quiet", ports=())), rule_ids={"PORT001"})
    failed = dataclasses.replace(result.targets[0], status="failed", error="cannot reach the engine")
    page = render(dataclasses.replace(result, targets=(failed,)))
    assert "No findings (the scan was incomplete: see the targets above)." in page
    assert '<span class="pill st-failed">failed</span>' in page
    assert "<strong>Error:</strong> cannot reach the engine" in page
    assert 'data-verdict="incomplete"' in page


# ----------------------------------------------------------------- topology


def test_topology_is_names_only_and_classifies_exposure():
    snap = shop()
    topo = snapshot_topology(snap)
    text = json.dumps(topology_json(topology_of([snap])))
    assert "id-" not in text and "net-" not in text
    by_name = {c.name: c for c in topo.containers}
    assert by_name["web"].exposure == "all"
    assert by_name["admin"].exposure == "loopback"
    assert by_name["db"].exposure == "unpublished"
    assert by_name["agent"].exposure == "host"
    assert by_name["web"].ports == (TopoPort("0.0.0.0:8080->80/tcp", "all"),)


def test_joined_namespace_is_named_not_by_id():
    web = container("web", networks=("front",))
    sidecar = Container(
        name="sidecar",
        id="f" * 64,
        network_mode=f"container:{'id-web'}",
        origin=Origin(SourceKind.ENGINE, "x"),
    )
    orphan = Container(
        name="orphan", network_mode=f"container:{'a' * 64}", origin=Origin(SourceKind.ENGINE, "y")
    )
    snap = snapshot(web, sidecar, orphan)
    by_name = {c.name: c for c in snapshot_topology(snap).containers}
    assert by_name["sidecar"].joins == "web" and by_name["sidecar"].network_mode == "container"
    assert by_name["orphan"].joins is None
    assert "a" * 64 not in json.dumps(topology_json(topology_of([snap])))


def test_layout_marks_findings_and_shows_shared_networks():
    result = scan_result(shop())
    (pic,) = html.topology.pictures(result)
    boxes = {b["name"]: b for b in pic["boxes"]}
    web_findings = [f for f in result.findings if f.resource.name == "web"]
    assert boxes["web"]["mark"]["count"] == len(web_findings)
    assert boxes["web"]["mark"]["severity"] == max(f.severity for f in web_findings).label
    bars = {b["name"]: b for b in pic["bars"]}
    assert bars["front"]["shared"] and bars["front"]["members"] == 2
    assert "host" not in bars  # the host band stands for it
    assert {u["exposure"] for u in pic["uplinks"]} == {"all", "loopback", "host"}
    assert pic["boxes"][0]["name"] == "agent"  # host-network containers come first


def test_layout_wraps_many_containers_into_rows_and_caps_the_picture():
    many = [container(f"svc{i:03}", ports=[port(80, 8000 + i)], networks=("mesh",)) for i in range(90)]
    pic = layout(snapshot_topology(snapshot(*many)), {})
    assert len(pic["boxes"]) == 80 and pic["hidden"] == [f"svc{i:03}" for i in range(80, 90)]
    assert len(pic["bands"]) > 1 and pic["width"] <= 1100 + 48
    mesh = [b for b in pic["bars"] if b["name"] == "mesh"]
    assert len(mesh) == len(pic["bands"]) and all(b["members"] == 90 for b in mesh)


# ----------------------------------------------------------------- JSON round trip


def json_doc(result) -> dict:
    buf = io.StringIO()
    json_report.render(result, buf)
    return json.loads(buf.getvalue())


def test_json_result_reads_back_to_the_same_document_and_page():
    result = scan_result(shop())
    first = json_doc(result)
    assert first["topology"] == topology_json(topology_of(result.snapshots))
    again = result_from_json(json.loads(json.dumps(first)), "scan.json")
    assert json_doc(again) == first
    assert html.report_context(again)["pictures"] == html.report_context(result)["pictures"]
    assert render(again).count('<details class="finding') == len(result.findings)


def test_policy_block_reads_back_waivers_and_baseline():
    result = waived_and_baselined(fail_on_new=True)
    doc = json_doc(result)
    assert doc["policy"]["baseline"] == {"new": 1, "existing": 1}
    again = result_from_json(json.loads(json.dumps(doc)))
    assert json_doc(again) == doc
    page = render(again)
    assert "owner <strong>web-team</strong>" in page and "expires <strong>2031-01-01</strong>" in page
    assert "<td>api-team</td><td>2020-01-01</td><td>temporary</td>" in page
    assert "only new findings fail the gate" in page


def test_saved_gate_verdict_is_kept():
    doc = json_doc(scan_result(shop()))
    doc["gate"]["verdict"] = "incomplete"
    assert 'data-verdict="incomplete"' in render(result_from_json(doc))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(schema_version="2.0"), "schema_version: expected 1.x, got '2.0'"),
        (lambda d: d.update(findings={}), "findings: expected a list"),
        (lambda d: d.pop("findings"), "findings: missing"),
        (
            lambda d: d["findings"][0].update(severity="urgent"),
            "findings[0].severity: unknown value 'urgent' (expected one of critical, high, medium, low, info)",
        ),
        (
            lambda d: d["findings"][0]["resource"].update(name=7),
            "findings[0].resource.name: expected a string",
        ),
        (
            lambda d: d["scan"].update(started_at="yesterday"),
            "scan.started_at: not an ISO 8601 time: 'yesterday'",
        ),
        (
            lambda d: d["targets"][0].update(kind="ftp"),
            "targets[0].kind: unknown value 'ftp' (expected one of engine, compose, snapshot)",
        ),
        (lambda d: d["targets"][0].update(notes="x" * 500), "targets[0].notes: expected a list"),
        (
            lambda d: d["findings"][0].update(status=[{"deep": ["x"] * 300}]),
            "findings[0].status: unknown value [{'deep': ['x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', '... (expected one of open, waived)",
        ),
        (lambda d: d.update(policy={"waived": "3"}), "policy.waived: expected an integer"),
        (
            lambda d: d["topology"]["targets"][0]["containers"][0].update(exposure="<b>"),
            "topology.targets[0].containers[0].exposure: unknown value '<b>' "
            "(expected one of host, all, address, loopback, unpublished)",
        ),
    ],
)
def test_malformed_json_results_are_input_errors(mutate, message):
    doc = json_doc(scan_result(shop()))
    mutate(doc)
    with pytest.raises(InputError) as err:
        result_from_json(doc, "scan.json")
    assert str(err.value) == f"scan.json: not a valid auditor JSON result: {message}"


# ----------------------------------------------------------------- auditor report


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "auditor", *args], capture_output=True, text=True, input=stdin, timeout=120
    )


def test_report_command_renders_a_saved_result(tmp_path):
    result = scan_result(shop())
    saved = tmp_path / "scan.json"
    saved.write_text(json.dumps(json_doc(result)))
    out = tmp_path / "out" / "report.html"
    proc = cli("report", str(saved), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    page = out.read_text()
    assert page.count('<details class="finding') == len(result.findings)
    assert f"<title>Docker network audit: {result.counts()['total']} open findings" in page
    stdout = cli("report", "-", stdin=saved.read_text())
    assert stdout.returncode == 0 and stdout.stdout.startswith("<!DOCTYPE html>")


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("{not json", "malformed JSON: Expecting property name enclosed in double quotes"),
        ('{"schema_version": "1.0"}', "not a valid auditor JSON result: tool: missing"),
        ("[]", "not a valid auditor JSON result: document: expected an object"),
    ],
)
def test_report_command_bad_input_exits_2_with_one_line(tmp_path, content, fragment):
    bad = tmp_path / "scan.json"
    bad.write_text(content)
    proc = cli("report", str(bad), "-o", str(tmp_path / "r.html"))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert fragment in lines[0]
    assert not (tmp_path / "r.html").exists()


def test_report_command_missing_file_exits_2(tmp_path):
    proc = cli("report", str(tmp_path / "nope.json"))
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"auditor: error: {tmp_path / 'nope.json'}: no such JSON result"
