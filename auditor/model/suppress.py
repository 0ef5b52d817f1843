"""Inline ignores: a waiver written next to what it waives.

Three places carry one, all in the same words, ``IDS reason="WHY"`` (IDS a comma list):

- a compose comment, ``# auditor: ignore=PORT001 reason="public front end"``, at the end of the
  line a finding points at, or alone on the line just above it;
- an ``x-auditor`` extension of a compose service (that service) or of the file (the project):
  ``x-auditor: {ignore: [{rule: PORT001, reason: "..."}]}``;
- the label ``io.auditor.ignore`` of a container or compose service: ``PORT001 reason="..."``.

A reason is required, and an id no rule has is an error: an ignore that silently matches
nothing would hide a typo. Findings an inline ignore matches are reported as waived, with the
reason and where the ignore was written; the waivers file stays the route with an owner and an
expiry date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

IGNORE_LABEL = "io.auditor.ignore"
_IDS = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:\s*,\s*[A-Za-z][A-Za-z0-9_]*)*")
_REASON = re.compile(r"""reason=(?:"([^"]*)"|'([^']*)')""")


@dataclass(frozen=True)
class Suppression:
    """One inline ignore. Its scope is a line (``uri`` and ``line``, as findings name them), a
    service (``service``), or, with neither, the whole target it was collected with."""

    rules: tuple[str, ...]
    reason: str
    source: str  # where it was written: compose.yaml:12, or label io.auditor.ignore on web
    uri: str | None = None
    line: int | None = None
    service: str | None = None
    container: str | None = None  # a label's: that container alone

    @property
    def scope(self) -> str:
        """How reports name what it covers (a waiver's ``match``)."""
        if self.line is not None:
            return f"line={self.uri}:{self.line}"
        if self.service is not None:
            return f"service={self.service}"
        if self.container is not None:
            return f"container={self.container}"
        return "project"


def parse_ids(text: str) -> tuple[str, ...]:
    """``PORT001, port002`` -> ``("PORT001", "PORT002")``; ``ValueError`` when not a comma list."""
    ids = _IDS.fullmatch(text.strip())
    if ids is None:
        raise ValueError(f"expected rule ids separated by commas, got {text.strip()[:60]!r}")
    return tuple(dict.fromkeys(part.strip().upper() for part in ids.group(0).split(",")))


def parse_ignore(text: str) -> tuple[tuple[str, ...], str]:
    """``IDS reason="WHY"`` -> (upper-case ids, reason); ``ValueError`` says what is wrong."""
    body = text.strip()
    ids = _IDS.match(body)
    if ids is None:
        raise ValueError(f'expected rule ids then reason="...", got {body[:60]!r}')
    rest = body[ids.end() :].strip()
    reason = _REASON.fullmatch(rest)
    if reason is None:
        if not rest:
            raise ValueError('an inline ignore needs a reason="..." (why the risk is accepted)')
        raise ValueError(f'expected reason="..." after the rule ids, got {rest[:60]!r}')
    why = (reason.group(1) if reason.group(1) is not None else reason.group(2)).strip()
    if not why:
        raise ValueError('an inline ignore needs a non-empty reason="..."')
    return parse_ids(ids.group(0)), why
