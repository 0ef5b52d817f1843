"""Compose files read into the positioned YAML tree of ``auditor.model.yamltree``.

The tree itself (``Map``/``Seq`` remembering the line of every key and item, compose's scalar
typing, bounded depth and alias expansion) lives in the model floor, shared with the waivers
file; this module holds what is compose's own: the bounded reader of a compose file's text, and
``Parsed``, the files one scan has read already.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from auditor.model import inputs
from auditor.model.yamltree import parse_text

MAX_FILE_BYTES = inputs.COMPOSE_LIMIT


def read_text(path: Path, uri: str) -> str:
    """A compose file's text through the bounded reader (regular files only, size-capped)."""
    return inputs.read_text(path, "compose file", MAX_FILE_BYTES, shown=uri)


def load_file(path: Path, uri: str) -> Any:
    return parse_text(read_text(path, uri), uri)


class Parsed:
    """Compose files one scan has read already (discovery peeks at every candidate), so that
    loading them does not read and parse them again: each file's text, and its tree until a
    loader takes it. A tree is handed out once, to a loader reading it under the same URI
    (interpolation works in place: a second project merging the same file parses it afresh)."""

    def __init__(self, uri_of: Callable[[Path], str]):
        self.uri_of = uri_of
        self._texts: dict[Path, str] = {}  # by the path discovery found (the loader is given the same)
        self._trees: dict[Path, tuple[str, Any]] = {}

    def load(self, path: Path) -> Any:
        """Read and parse ``path`` as a loader would, keeping text and tree; errors propagate."""
        uri = self.uri_of(path)
        text = read_text(path, uri)
        self._texts[path] = text
        tree = parse_text(text, uri)
        self._trees[path] = (uri, tree)
        return tree

    def take(self, path: Path, uri: str) -> tuple[bool, Any]:
        """``(True, tree)`` once for a file parsed under ``uri``, else ``(False, None)``."""
        kept = self._trees.pop(path, None)
        if kept is None or kept[0] != uri:
            return False, None
        return True, kept[1]

    def text(self, path: Path) -> str | None:
        """The text of a file read before, once (a second reader reads the file again)."""
        return self._texts.pop(path, None)
