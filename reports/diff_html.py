"""Renders a scan-to-scan diff as HTML or Markdown from Jinja templates (HTML autoescaped)."""

from __future__ import annotations

from pathlib import Path
from typing import IO

import jinja2

from auditor.history.diff import FindingDiff

_TEMPLATES = Path(__file__).parent / "templates"


def _markdown_cell(value: object) -> str:
    """Text safe inside a Markdown table cell: no pipes, no raw HTML, no line breaks."""
    text = "" if value is None else str(value)
    for raw, safe in (("\\", "\\\\"), ("|", "\\|"), ("<", "&lt;"), (">", "&gt;"), ("`", "\\`"),
                      ("*", "\\*"), ("_", "\\_"), ("[", "\\["), ("]", "\\]")):
        text = text.replace(raw, safe)
    return " ".join(text.split())


def _environment(autoescape: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
        autoescape=autoescape,  # noqa: S701 - Markdown is escaped by the `md` filter instead
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = _markdown_cell
    return env


def render_html(diff: FindingDiff, stream: IO[str]) -> None:
    stream.write(_environment(True).get_template("diff.html.j2").render(diff=diff))


def render_markdown(diff: FindingDiff, stream: IO[str]) -> None:
    stream.write(_environment(False).get_template("diff.md.j2").render(diff=diff))
