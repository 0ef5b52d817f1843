"""GitLab Code Quality JSON: a list of issues shown in merge requests on every GitLab tier.

Each open finding becomes one issue with ``description``, ``check_name``, a unique
``fingerprint``, ``severity`` in GitLab's vocabulary and ``location.path`` + ``lines.begin``.
Waived findings are left out (Code Quality has no notion of an accepted risk); expired waivers
bring their findings back as open issues, whose description says the waiver expired.
"""

from __future__ import annotations

import hashlib
from typing import IO, Any

from auditor.model.findings import Finding, ScanResult
from auditor.model.jsontext import dumps
from auditor.model.severity import Severity
from auditor.model.text import visible

from .ci_common import Place, places
from .formats import SCAN, OutputFormat

# The one place severity becomes Code Quality vocabulary.
SEVERITY_MAP: dict[Severity, str] = {
    Severity.CRITICAL: "blocker",
    Severity.HIGH: "critical",
    Severity.MEDIUM: "major",
    Severity.LOW: "minor",
    Severity.INFO: "info",
}


def _description(f: Finding) -> str:
    text = f"{f.rule_id}: {f.message}"
    if f.waiver and f.waiver.state == "expired":
        text += f" (waiver by {f.waiver.owner} expired {f.waiver.expires})"
    return visible(text)  # GitLab shows it in merge requests: no control or bidi characters


def issue(f: Finding, place: Place, fingerprint: str) -> dict[str, Any]:
    path = place.uri
    return {
        "type": "issue",
        "description": _description(f),
        "check_name": f.rule_id,
        "categories": ["Security"],
        "content": {"body": f"{f.title}. Fix: {f.remediation}"},
        "fingerprint": fingerprint,
        "severity": SEVERITY_MAP[f.severity],
        "location": {"path": path, "lines": {"begin": place.line or 1}},
    }


def codequality_json(result: ScanResult) -> list[dict[str, Any]]:
    where = places(result)
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for f in result.findings:
        if f.status == "waived":
            continue
        # GitLab wants a unique fingerprint per issue; findings' own are unique per target, and
        # the counter keeps them unique even if two targets share a name.
        fp = hashlib.sha256(f"codequality\x1f{f.fingerprint}".encode()).hexdigest()[:32]
        n = 1
        while fp in seen:
            fp = hashlib.sha256(f"codequality\x1f{f.fingerprint}\x1f{n}".encode()).hexdigest()[:32]
            n += 1
        seen.add(fp)
        out.append(issue(f, where[f.fingerprint], fp))
    return out


def render(result: ScanResult, stream: IO[str]) -> None:
    stream.write(dumps(codequality_json(result)))
    stream.write("\n")


FORMAT = OutputFormat("codequality", (".codequality.json",), ((SCAN, render),))
