"""Inline ignores in compose files: ``# auditor: ignore=...`` comments and ``x-auditor``.

Comments are not part of the YAML tree, so they are read from the file's text by line number:
a comment after content applies to its own line, a comment alone on a line to the next line
with content. The grammar is ``auditor.model.suppress``'s; any ``# auditor:`` comment that does
not follow it is an error with file and line, never skipped.
"""

from __future__ import annotations

import re
from typing import Any

from auditor.model.errors import InputError
from auditor.model.records import Origin
from auditor.model.suppress import Suppression, parse_ids, parse_ignore
from auditor.model.yamltree import Map, Seq

EXTENSION = "x-auditor"
_MARKER = re.compile(r"(?:^|\s)#\s*auditor:(.*)$")
_USAGE = 'write "# auditor: ignore=RULE[,RULE...] reason=\\"why\\""'


def _next_content_line(lines: list[str], index: int) -> int | None:
    for number in range(index + 1, len(lines)):
        text = lines[number].strip()
        if text and not text.startswith("#"):
            return number + 1
    return None


def comment_ignores(text: str, uri: str) -> list[Suppression]:
    """Every ``# auditor: ignore=`` comment of one compose file."""
    if "auditor:" not in text:
        return []
    lines = text.splitlines()
    out: list[Suppression] = []
    for index, line in enumerate(lines):
        found = _MARKER.search(line)
        if found is None:
            continue
        number = index + 1
        body = found.group(1).strip()
        if not body.startswith("ignore="):
            raise InputError(f"unknown auditor comment ({_USAGE})", uri, number)
        try:
            rules, reason = parse_ignore(body[len("ignore=") :])
        except ValueError as exc:
            raise InputError(f"inline ignore: {exc}", uri, number) from None
        target = number if line[: found.start()].strip() else _next_content_line(lines, index)
        if target is None:
            raise InputError("inline ignore has no line below it to apply to", uri, number)
        out.append(Suppression(rules, reason, f"{uri}:{number}", uri=uri, line=target))
    return out


def _where(origin: Origin) -> str:
    return f"{origin.uri}:{origin.line}" if origin.line else origin.uri


def extension_ignores(owner: Map, service: str | None) -> list[Suppression]:
    """The ``x-auditor: {ignore: [{rule, reason}]}`` of a service (or of the file: ``None``)."""
    value: Any = owner.get(EXTENSION)
    if value is None:
        return []
    at = owner.at(EXTENSION)
    if not isinstance(value, Map) or set(value) - {"ignore"}:
        raise InputError(f"{EXTENSION} must be a mapping with one key, ignore", at.uri, at.line)
    entries = value.get("ignore")
    if not isinstance(entries, Seq):
        where = value.at("ignore") if "ignore" in value else at
        raise InputError(f"{EXTENSION}.ignore must be a list of {{rule, reason}}", where.uri, where.line)
    out = []
    for i, entry in enumerate(entries):
        origin = entries.at(i)
        if not isinstance(entry, Map) or set(entry) != {"rule", "reason"}:
            raise InputError(
                f"{EXTENSION}.ignore entries need exactly rule and reason", origin.uri, origin.line
            )
        rule, reason = entry.get("rule"), entry.get("reason")
        try:
            rules = parse_ids(",".join(str(r) for r in rule) if isinstance(rule, Seq) else str(rule))
        except ValueError as exc:
            raise InputError(f"{EXTENSION}: {exc}", origin.uri, origin.line) from None
        if not isinstance(reason, str) or not reason.strip():
            raise InputError(
                f"{EXTENSION}: an inline ignore needs a non-empty reason", origin.uri, origin.line
            )
        out.append(Suppression(rules, reason.strip(), _where(origin), service=service))
    return out
