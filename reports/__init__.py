"""Reporters: pure functions ``(ScanResult, stream) -> None``, one module per format."""

from __future__ import annotations

from collections.abc import Callable
from typing import IO

from auditor.model.findings import ScanResult

from . import codequality, html, json_report, junit, markdown, sarif, table

Reporter = Callable[[ScanResult, IO[str]], None]

REPORTERS: dict[str, Reporter] = {
    "json": json_report.render,
    "table": table.render,
    "sarif": sarif.render,
    "junit": junit.render,
    "markdown": markdown.render,
    "codequality": codequality.render,
    "html": html.render,
}

# Output file extension -> format, for `-o FILE`.
EXTENSIONS: dict[str, str] = {
    ".json": "json",
    ".txt": "table",
    ".sarif": "sarif",
    ".sarif.json": "sarif",
    ".xml": "junit",
    ".md": "markdown",
    ".codequality.json": "codequality",
    ".html": "html",
    ".htm": "html",
}


def format_for_path(path: str) -> str | None:
    lowered = path.lower()
    for ext in sorted(EXTENSIONS, key=len, reverse=True):
        if lowered.endswith(ext):
            return EXTENSIONS[ext]
    return None
