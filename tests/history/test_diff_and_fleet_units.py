"""Pure parts: the diff itself, its Markdown/HTML rendering (escaping), hosts files, progress."""

from __future__ import annotations

import io
import json

import pytest
from auditor.reports.html import render_diff as render_html
from auditor.reports.markdown import render_diff as render_markdown
from click.testing import CliRunner

from auditor.app.progress import FleetProgress, fleet_progress
from auditor.collectors.endpoints import EngineSpec
from auditor.collectors.fleet import parse_hosts_file
from auditor.commands.diff import diff_command
from auditor.commands.scan import scan_command
from auditor.history.diff import DiffSide, diff_findings
from auditor.model.errors import InputError
from auditor.model.history import FindingRecord

HOSTILE = '<script>alert("x")</script>|`*'


def record(fp: str, name: str = "web", severity: str = "high", message: str = "m", **kw) -> FindingRecord:
    return FindingRecord(
        fingerprint=fp,
        rule_id=kw.get("rule_id", "PORT001"),
        severity=severity,
        title="t",
        message=message,
        resource_kind="container",
        resource_name=name,
        project=None,
        target="h1",
        status=kw.get("status", "open"),
        location=None,
        evidence=kw.get("evidence", ()),
    )


OLD, NEW = (
    DiffSide("scan 1", "2026-01-01T00:00:00", ("h1",), 1),
    DiffSide("scan 2", "2026-01-02T00:00:00", ("h1",), 2),
)


def test_diff_sorts_findings_into_new_resolved_changed_unchanged():
    old = [record("a"), record("b", name="db"), record("c", message="before"), record("d")]
    new = [
        record("a"),
        record("c", message="after", severity="critical"),
        record("e", severity="low"),
        record("f", severity="critical"),
        record("d"),
    ]
    diff = diff_findings(OLD, old, NEW, new)
    assert [f.fingerprint for f in diff.added] == ["f", "e"]  # most severe first
    assert [f.fingerprint for f in diff.resolved] == ["b"]
    assert [(c.after.fingerprint, c.fields) for c in diff.changed] == [("c", ("severity", "message"))]
    assert diff.summary == {"new": 2, "resolved": 1, "changed": 1, "unchanged": 2}


def test_waiving_a_finding_is_a_change_not_a_resolution():
    diff = diff_findings(OLD, [record("a")], NEW, [record("a", status="waived")])
    assert diff.resolved == () and [c.fields for c in diff.changed] == [("status",)]


def test_markdown_and_html_escape_hostile_names():
    diff = diff_findings(OLD, [], NEW, [record("a", name=HOSTILE, message=HOSTILE)])
    md, page = io.StringIO(), io.StringIO()
    render_markdown(diff, md)
    render_html(diff, page)
    assert "<script>" not in md.getvalue()
    assert '&lt;script&gt;alert("x")&lt;/script&gt;\\|\\`\\*' in md.getvalue()
    assert "<script>" not in page.getvalue()
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;|`*" in page.getvalue()
    assert '<span id="count-new">1 new</span>' in page.getvalue()


def report(tmp_path, name: str, findings: list[FindingRecord]) -> str:
    doc = {
        "schema_version": "1.0",
        "scan": {"started_at": "2026-01-01T00:00:00"},
        "targets": [{"name": "h1"}],
        "findings": [
            {**f.to_json(), "resource": {**f.to_json()["resource"], "id": "x"}, "location": {"uri": None}}
            for f in findings
        ],
    }
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return str(path)


def test_diff_of_two_saved_json_reports_needs_no_store(tmp_path):
    old = report(tmp_path, "old.json", [record("a"), record("b", name="db")])
    new = report(tmp_path, "new.json", [record("a"), record("c", name="cache")])
    out = CliRunner().invoke(diff_command, [old, new, "-f", "json", "--store", str(tmp_path / "unused.db")])
    assert out.exit_code == 0, out.stderr
    diff = json.loads(out.stdout)
    assert [f["resource"]["name"] for f in diff["new_findings"]] == ["cache"]
    assert [f["resource"]["name"] for f in diff["resolved_findings"]] == ["db"]
    assert not (tmp_path / "unused.db").exists()
    (tmp_path / "bad.json").write_text('{"findings": [{"rule_id": "X"}]}')
    bad = CliRunner().invoke(diff_command, [old, str(tmp_path / "bad.json")])
    assert bad.exit_code == 2
    assert bad.stderr.strip() == (
        f"auditor: error: {tmp_path / 'bad.json'}: not an `auditor scan -f json` "
        "report (missing findings, fingerprints or resources)"
    )


def test_hosts_file_lines_names_comments_and_errors(tmp_path):
    base = EngineSpec(tls_verify=True, ca_cert="/ca.pem", timeout=5)
    hosts = tmp_path / "hosts"
    hosts.write_text("# fleet\n\ntcp://10.0.0.1:2376 web1  # rack 1\nssh://ops@h2\n")
    specs = parse_hosts_file(str(hosts), base)
    assert specs == [
        EngineSpec(url="tcp://10.0.0.1:2376", tls_verify=True, ca_cert="/ca.pem", timeout=5, name="web1"),
        EngineSpec(url="ssh://ops@h2", tls_verify=True, ca_cert="/ca.pem", timeout=5, name=None),
    ]
    hosts.write_text("tcp://h1:2376\nh2:2376\n")
    with pytest.raises(InputError, match=r"hosts:2: 'h2:2376' is not an engine URL"):
        parse_hosts_file(str(hosts), base)
    hosts.write_text("tcp://h1 a b\n")
    with pytest.raises(InputError, match=r"hosts:1: expected `URL \[NAME\] \[tls-verify\]"):
        parse_hosts_file(str(hosts), base)
    hosts.write_text("# nothing\n")
    result = CliRunner().invoke(scan_command, ["--hosts-file", str(hosts)])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"auditor: error: {hosts}: hosts file lists no engines"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_shows_on_terminals_only(monkeypatch):
    specs = [EngineSpec(url="tcp://h1:2376", name="web1"), EngineSpec(url="unix:///x.sock")]
    monkeypatch.setenv("CI", "true")
    with fleet_progress(specs, Terminal()) as progress:
        assert progress is None  # CI logs stay quiet
    monkeypatch.delenv("CI")
    with fleet_progress(specs, io.StringIO()) as progress:
        assert progress is None  # not a terminal
    with fleet_progress([], Terminal()) as progress:
        assert progress is None  # no engine (compose files, saved JSON): nothing to follow
    single = Terminal()
    with fleet_progress(specs[:1], single) as progress:
        assert isinstance(progress, FleetProgress)  # a big single host is long work too
        progress(specs[0], "inspecting", 150, 300)
    assert "150/300" in single.getvalue()
    screen = Terminal()
    with fleet_progress(specs, screen) as progress:
        assert isinstance(progress, FleetProgress)
        progress(specs[0], "inspecting", 3, 7)
        progress(specs[0], "done", 0, 0)
        progress(specs[1], "failed", 0, 0)
    text = screen.getvalue()
    assert "web1 (tcp://h1:2376)" in text and "done" in text
    assert "unix:///x.sock" in text and "failed" in text
