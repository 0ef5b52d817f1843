"""Baselines: a previous JSON result whose fingerprints mark today's findings as existing.

Only the fingerprints are read, so a baseline stays valid across container re-creation (the
fingerprints are built from names, never from ids). Any finding of the previous run counts,
open or waived: accepting a risk and then removing the waiver does not make it new.
"""

from __future__ import annotations

from pathlib import Path

from auditor.model import inputs
from auditor.model.errors import InputError

MAX_BASELINE_BYTES = inputs.JSON_LIMIT
SUPPORTED_SCHEMA = "1."


def parse_baseline(doc: object, path: str) -> frozenset[str]:
    """Fingerprints of a previous ``auditor scan -f json`` result. The findings list is consumed
    (each entry dropped once read), so the set grows as the parsed objects go: a baseline of
    600,000 findings is not held twice."""
    if not isinstance(doc, dict) or "findings" not in doc or "schema_version" not in doc:
        raise InputError(
            "not an auditor JSON result (expected schema_version and findings; write one with -o FILE.json)",
            path,
        )
    version = str(doc.get("schema_version"))
    if not version.startswith(SUPPORTED_SCHEMA):
        raise InputError(f"unsupported baseline schema_version {version!r} (expected 1.x)", path)
    findings = doc["findings"]
    if not isinstance(findings, list):
        raise InputError("'findings' must be a list", path)
    out: set[str] = set()
    for index, item in enumerate(findings):
        fp = item.get("fingerprint") if isinstance(item, dict) else None
        if not isinstance(fp, str) or not fp:
            raise InputError(f"finding {index} has no fingerprint", path)
        out.add(fp)
        findings[index] = None
    return frozenset(out)


def load_baseline(path: str | Path) -> frozenset[str]:
    doc = inputs.load_json(path, "baseline file", MAX_BASELINE_BYTES)
    return parse_baseline(doc, str(path))
