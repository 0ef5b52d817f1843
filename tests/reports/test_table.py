"""The terminal table: hostile text shown as written (escaped), and a bounded number of rows."""

from __future__ import annotations

import io

from auditor.reports import table
from gates.cisupport import scan_result
from support.builders import container, port, snapshot

UNSAFE = "\x1b\x07\x08\r\x7f\x9b\u202e\u2066\u200f"  # line feeds are the table's own


def render(result) -> str:
    buf = io.StringIO()
    table.render(result, buf)
    return buf.getvalue()


def test_names_cannot_draw_on_the_terminal():
    name = "web\x1b]0;pwned\x07\x1b[2J\rOK\u202egnp.exe"
    text = render(scan_result(snapshot(container(name, ports=[port(80, 8080)])), rule_ids={"PORT001"}))
    assert not any(ch in text for ch in UNSAFE)
    short = render(
        scan_result(snapshot(container("a\x1bb\u202ec", ports=[port(80, 8080)])), rule_ids={"PORT001"})
    )
    assert "container/a\\x1bb\\u202ec" in short


def test_rich_markup_in_names_is_text():
    text = render(
        scan_result(snapshot(container("[bold red]x[/]", ports=[port(80, 8080)])), rule_ids={"PORT001"})
    )
    assert "[bold red]x[/]" in text


def test_the_table_lists_a_bounded_number_of_rows_and_says_how_many_more():
    containers = [container(f"c{i:04}", ports=[port(80, 10000 + i)]) for i in range(table.TABLE_ROWS + 7)]
    text = render(scan_result(snapshot(*containers), rule_ids={"PORT001"}))
    assert sum(1 for line in text.splitlines() if "PORT001" in line) == table.TABLE_ROWS
    assert (
        f"7 more findings are not listed here (the table shows the first {table.TABLE_ROWS}); every format "
        "but the table lists them all, e.g. -o findings.json."
    ) in " ".join(text.split())
    assert f"{table.TABLE_ROWS + 7} findings (0 critical, 0 high, {table.TABLE_ROWS + 7} medium" in text
