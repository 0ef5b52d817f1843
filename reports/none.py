"""``-f none``: nothing on stdout (the reports go to ``-o`` files only)."""

from __future__ import annotations

from typing import IO, Any

from .formats import DIFF, SCAN, OutputFormat


def render(document: Any, stream: IO[str]) -> None:
    """Writes nothing, on purpose."""


FORMAT = OutputFormat("none", (), ((SCAN, render), (DIFF, render)))
