"""Reads saved JSON: ``docker inspect`` / ``docker network inspect`` output and snapshot files.

Files are recognised by content, not by name. Plain inspect output from several files is
combined into one offline target (containers from one file, networks from another is the
usual way people save them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from auditor import inputs
from auditor.collectors.inspect import is_container_document, is_network_document
from auditor.errors import InputError
from auditor.model import SourceKind, Target
from auditor.raw import RawState, is_snapshot_document, raw_from_json, sanitize_container, sanitize_network

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
