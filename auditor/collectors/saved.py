"""Reads saved JSON: ``docker inspect`` / ``docker network inspect`` output and snapshot files.

Files are recognised by content, not by name. Plain inspect output from several files is
combined into one offline target (containers from one file, networks from another is the
usual way people save them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditor.collectors.base import Collected, Progress
from auditor.collectors.inspect import is_container_document, is_network_document
from auditor.collectors.raw import (
    RawState,
    is_snapshot_document,
    normalize_raw,
    raw_from_json,
    sanitize_container,
    sanitize_network,
)
from auditor.model import inputs
from auditor.model.errors import AuditorError, InputError
from auditor.model.records import SourceKind, Target

MAX_JSON_BYTES = inputs.JSON_LIMIT
SAVED_INSPECT_TARGET = "saved-inspect"


def read_json(path: Path) -> Any:
    """Parse a JSON file, turning every failure into a one-line ``InputError``."""
    return inputs.load_json(path, "JSON file", MAX_JSON_BYTES)


def looks_like_saved_json(doc: Any) -> bool:
    """True for a snapshot file or a list of inspect documents."""
    if is_snapshot_document(doc):
        return True
    if isinstance(doc, dict):
        doc = [doc]
    return (
        isinstance(doc, list)
        and bool(doc)
        and all(is_container_document(d) or is_network_document(d) for d in doc)
    )


def split_inspect_documents(doc: Any, path: str) -> tuple[list[dict], list[dict]]:
    """Containers and networks from one file of ``docker inspect`` output."""
    items = [doc] if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        raise InputError("expected a JSON list of docker inspect documents", path)
    containers, networks = [], []
    for index, item in enumerate(items):
        if is_container_document(item):
            containers.append(sanitize_container(item))
        elif is_network_document(item):
            networks.append(sanitize_network(item))
        else:
            raise InputError(f"item {index} is neither a container nor a network inspect document", path)
    return containers, networks


def combine_inspect_files(docs: list[tuple[str, Any]]) -> RawState:
    """One offline target from several files of plain inspect output."""
    containers: list[dict] = []
    networks: list[dict] = []
    for path, doc in docs:
        c, n = split_inspect_documents(doc, path)
        containers.extend(c)
        networks.extend(n)
    address = ", ".join(p for p, _ in docs)
    return RawState(
        target=Target(SourceKind.SNAPSHOT, SAVED_INSPECT_TARGET, address),
        version={},
        info={},
        containers=tuple(containers),
        networks=tuple(networks),
        host={},
        source_uri=docs[0][0] if len(docs) == 1 else None,
    )


def load_snapshot_file(path: str, doc: Any) -> RawState:
    return raw_from_json(doc, path)


def starts_like_json(path: Path) -> bool:
    """The first bytes of a regular file open a JSON object or list (FIFOs are never opened)."""
    return inputs.peek(path).lstrip()[:1] in (b"[", b"{")


def saved_json_of(path: Path) -> object | None:
    """The parsed document when ``path`` holds saved inspect JSON or a snapshot, else ``None``."""
    if not starts_like_json(path):
        return None
    try:
        doc = read_json(path)
    except InputError:
        return None  # not valid JSON: the caller's own reader reports it
    return doc if looks_like_saved_json(doc) else None


@dataclass(frozen=True)
class SavedSource:
    """Saved JSON already parsed: each snapshot file is a target, plain inspect files one together."""

    docs: tuple[tuple[str, object], ...]

    def collect(self, progress: Progress | None = None) -> Sequence[Collected]:
        out: list[Collected] = []
        plain: list[tuple[str, object]] = []
        for path, doc in self.docs:
            if is_snapshot_document(doc):
                try:
                    raw = load_snapshot_file(path, doc)
                    out.append(Collected(raw.target, normalize_raw(raw), raw=raw))
                except AuditorError as exc:
                    out.append(Collected(Target(SourceKind.SNAPSHOT, path, path), None, exc))
            else:
                plain.append((path, doc))
        if plain:
            try:
                raw = combine_inspect_files(plain)
                out.append(Collected(raw.target, normalize_raw(raw), raw=raw))
            except AuditorError as exc:
                address = ", ".join(p for p, _ in plain)
                out.append(Collected(Target(SourceKind.SNAPSHOT, address, address), None, exc))
        return out
