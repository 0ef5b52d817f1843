"""Markdown summary: short, capped, and attacker-controlled names cannot inject markup."""

from __future__ import annotations

import io

from auditor.reports import markdown
from gates.cisupport import scan_result, waived_and_baselined
from markdown_it import MarkdownIt
from support.builders import container, port, snapshot


def render(result) -> str:
    buf = io.StringIO()
    markdown.render(result, buf)
    return buf.getvalue()


def test_summary_header_and_counts():
    text = render(scan_result(snapshot(container("web", ports=[port(80, 8080)])), rule_ids={"PORT001"}))
    lines = text.splitlines()
    assert lines[0] == "### ✅ auditor: PASSED"
    assert "Gate: fail on high. 0 failing, 1 open." in text
    assert "| 0 | 0 | 1 | 0 | 0 |" in text
    assert (
        "| medium | PORT001 | container web | web publishes 80/tcp on host port 8080 of all IPv4 interfaces (0.0.0.0). | docker://testhost/containers/web |"
        in text
    )


def test_hostile_names_render_as_text():
    hostile = "<img src=x onerror=alert(1)>|@octo-org/admins `x` [y](http://e) **b**"
    text = render(scan_result(snapshot(container(hostile, ports=[port(80, 8080)])), rule_ids={"PORT001"}))
    html = MarkdownIt("commonmark").enable("table").render(text)
    assert "<img" not in html
    assert "<a " not in html and "<strong>b" not in html and "<code>" not in html
    assert "@octo" not in text  # no @-mention reaches GitHub
    row = next(line for line in text.splitlines() if "PORT001" in line)
    assert row.count(" | ") == 4  # the pipe in the name did not add a column
    assert "&lt;img src=x onerror=alert(1)&gt;\\|&#64;octo-org/admins" in row


def test_long_lists_are_capped_and_say_how_many_were_left_out():
    containers = [container(f"app{i:03}", ports=[port(80, 8000 + i)]) for i in range(60)]
    text = render(scan_result(snapshot(*containers), rule_ids={"PORT001"}))
    rows = [line for line in text.splitlines() if line.startswith("| medium | PORT001")]
    assert len(rows) == markdown.MAX_ROWS
    assert f"…and {60 - markdown.MAX_ROWS} more open findings not shown here; see the full report." in text
    assert len(text) < 10_000


def test_long_messages_are_shortened():
    text = render(scan_result(snapshot(container("n" * 500, ports=[port(80, 8080)])), rule_ids={"PORT001"}))
    row = next(line for line in text.splitlines() if "PORT001" in line)
    assert "n" * (markdown.MAX_CELL - 1) + "…" in row
    assert "n" * markdown.MAX_CELL not in row


def test_expired_waivers_waived_count_and_baseline():
    result = waived_and_baselined()
    text = render(result)
    assert "1 open, 1 waived, 1 new and 1 existing against the baseline." in text
    assert (
        "- PORT001 (container=api), owner api-team, expired 2020-01-01: temporary. 1 finding(s) back, w.yaml:6"
        in text
    )
    assert "(waiver expired) | docker://testhost/containers/api | new |" in text


def test_control_and_bidi_characters_are_shown_escaped():
    hostile = "gnp.\u202eexe\x1b]0;t\x07\u2066"
    text = render(scan_result(snapshot(container(hostile, ports=[port(80, 8080)])), rule_ids={"PORT001"}))
    assert not any(ch in text for ch in "\u202e\x1b\x07\u2066")
    assert (
        "gnp.\\\\u202eexe\\\\x1b\\]0;t\\\\x07\\\\u2066" in text
    )  # the backslash itself escaped for Markdown
