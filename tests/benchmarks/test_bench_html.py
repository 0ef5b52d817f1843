"""The standalone benchmark page: charts from the shared macros, escaping, CSP."""

from __future__ import annotations

import html
import io
from dataclasses import replace

from auditor.reports.bench_html import render_html, render_string
from auditor.reports.bench_table import render_table

from .synthetic import ENV, document, standard_results


def test_page_has_charts_tables_and_escapes_names():
    result = document(standard_results(), environment=replace(ENV, hostname="<script>alert(1)</script>"))
    page = render_string(result)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count("<svg") == 2  # throughput and latency charts
    assert "default-src 'none'" in html.unescape(page) and "style-src 'sha256-" in html.unescape(page)
    assert "userland proxy (docker-proxy)" in page
    assert "0.40× (0.40–0.40) real difference" in page  # published-proxy vs published-nat


def test_terminal_summary_lines():
    out = io.StringIO()
    render_table(document(standard_results(), modes="bridge,macvlan"), out)
    lines = out.getvalue().splitlines()
    assert lines[0].split()[:2] == ["mode", "status"]
    bridge = next(line for line in lines if line.startswith("bridge "))
    assert bridge.split()[1:3] == ["ok", "7.35"]
    assert "0.70*" in bridge  # real difference against host-loopback
    assert any(line.startswith("macvlan") and "not run without --macvlan-parent" in line for line in lines)


def test_render_html_writes_the_page_to_a_stream():
    result = document(standard_results())
    out = io.StringIO()
    render_html(result, out)
    assert out.getvalue() == render_string(result)
