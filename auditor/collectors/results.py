"""Read a JSON result (written by ``reports/json_report.py``) back into a ``ScanResult``.

Scheduled scans keep their JSON; ``auditor report`` renders it later. The document is checked
against the shipped schema (``reports/schemas/scan-result.schema.json``) first, so a malformed
or foreign file is one ``InputError`` naming the field (exit 2), never a traceback; after that
the records are built without further checks. The saved gate, policy summary, topology and
benchmark come back as the typed fields of ``ScanResult``, so a saved result renders as it was
written.
"""

from __future__ import annotations

import json
from datetime import datetime
from importlib import resources
from typing import Any

from auditor.model import inputs
from auditor.model.bench import from_json as bench_from_json
from auditor.model.errors import InputError
from auditor.model.findings import (
    BaselineSplit,
    ExpiredWaiver,
    Finding,
    PolicySummary,
    RuleError,
    SavedGate,
    ScanResult,
    TargetResult,
    WaiverNote,
)
from auditor.model.records import Origin, Resource, SourceKind, Target
from auditor.model.rule import Reference
from auditor.model.severity import Severity
from auditor.model.topology import TopoContainer, Topology, TopoNetwork, TopoPort, TopoTarget

SUPPORTED_MAJOR = "1"
WAIVER_KEYS = ("rule", "match", "reason", "owner", "expires", "source", "state")
EXPIRED_TEXT_KEYS = ("rule", "match", "reason", "owner", "expires", "source")
SCHEMA = ("auditor.reports", "schemas/scan-result.schema.json")
_TYPE_NAMES = {
    "object": "an object",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


def _where(path: Any) -> str:
    """``findings[0].resource.name`` from a JSON path; ``document`` for the top."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "document"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _problem(error: Any) -> tuple[str, str]:
    """(field, problem) of a schema error, short and on one line whatever the document holds."""
    path = list(error.absolute_path)
    kind, expected = error.validator, error.validator_value
    if kind == "required":
        missing = next((k for k in expected if k not in error.instance), expected[0])
        return _where([*path, missing]), "missing"
    if kind == "type":
        names = [str(n) for n in (expected if isinstance(expected, list) else [expected])]
        wanted = " or ".join(_TYPE_NAMES.get(n, n) for n in names)
        return _where(path), f"expected {wanted}"
    if kind in ("enum", "const"):
        choices = expected if kind == "enum" else [expected]
        return _where(
            path
        ), f"unknown value {_short(error.instance)} (expected one of {', '.join(map(str, choices))})"
    return _where(path), f"{_short(error.instance)} does not match the schema ({kind} {_short(expected)})"


def _check(doc: Any, path: str) -> None:
    import jsonschema

    def fail(where: str, problem: str) -> InputError:
        return InputError(f"not a valid auditor JSON result: {where}: {problem}", path)

    if not isinstance(doc, dict):
        raise fail("document", "expected an object")
    version = doc.get("schema_version")
    if not isinstance(version, str) or version.split(".")[0] != SUPPORTED_MAJOR:
        raise fail("schema_version", f"expected {SUPPORTED_MAJOR}.x, got {version!r}")
    schema = json.loads(resources.files(SCHEMA[0]).joinpath(SCHEMA[1]).read_text(encoding="utf-8"))
    error = next(jsonschema.Draft202012Validator(schema).iter_errors(doc), None)
    if error is not None:
        raise fail(*_problem(error))
    try:
        datetime.fromisoformat(doc["scan"]["started_at"])
    except ValueError:
        raise fail("scan.started_at", f"not an ISO 8601 time: {doc['scan']['started_at']!r}") from None


def _target(t: dict[str, Any]) -> TargetResult:
    return TargetResult(
        target=Target(SourceKind(t["kind"]), t["name"], t["address"]),
        status=t["status"],
        error=t["error"],
        notes=tuple(t["notes"]),
        not_checked=tuple(t["not_checked"]),
        containers=t.get("containers", 0),
        networks=t.get("networks", 0),
    )


def _location(loc: dict[str, Any]) -> Origin | None:
    if loc["source"] is None:
        return None
    return Origin(
        kind=SourceKind(loc["source"]), uri=loc["uri"] or "", line=loc["line"], column=loc.get("column")
    )


def _finding(f: dict[str, Any]) -> Finding:
    res = f["resource"]
    w = f.get("waiver")
    return Finding(
        rule_id=f["rule_id"],
        severity=Severity.parse(f["severity"]),
        title=f["title"],
        message=f["message"],
        resource=Resource(
            kind=res["kind"],
            name=res["name"],
            id=res.get("id"),
            project=res.get("project"),
            host=res.get("host"),
        ),
        location=_location(f["location"]),
        evidence=tuple(f["evidence"].items()),
        remediation=f["remediation"],
        fingerprint=f["fingerprint"],
        references=tuple(Reference(r["title"], r.get("url")) for r in f.get("references", ())),
        status=f["status"],
        baseline=f.get("baseline"),
        waiver=None if w is None else WaiverNote(**{k: w.get(k) or "" for k in WAIVER_KEYS}),
    )


def _policy(p: dict[str, Any]) -> PolicySummary:
    """The JSON ``policy`` block back into the summary the policy step writes."""
    b = p.get("baseline")
    return PolicySummary(
        fail_on_new=bool(p.get("fail_on_new")),
        waived=p.get("waived", 0),
        expired_waivers=tuple(
            ExpiredWaiver(**{k: w[k] for k in EXPIRED_TEXT_KEYS}, findings=w["findings"])
            for w in p.get("expired_waivers", ())
        ),
        baseline=None if b is None else BaselineSplit(new=b["new"], existing=b["existing"]),
        severity_overrides=tuple(
            sorted((k, Severity.parse(v)) for k, v in p.get("severity_overrides", {}).items())
        ),
    )


def _topology_target(t: dict[str, Any]) -> TopoTarget:
    return TopoTarget(
        target=t["target"],
        kind=t["kind"],
        networks=tuple(
            TopoNetwork(
                name=n["name"],
                driver=n.get("driver"),
                internal=n.get("internal"),
                default_bridge=bool(n.get("default_bridge")),
                icc=n.get("icc"),
            )
            for n in t["networks"]
        ),
        containers=tuple(
            TopoContainer(
                kind=c["kind"],
                name=c["name"],
                state=c.get("state"),
                network_mode=c["network_mode"],
                joins=c.get("joins"),
                networks=tuple(c["networks"]),
                ports=tuple(TopoPort(p["display"], p["exposure"], p.get("outside")) for p in c["ports"]),
                exposure=c["exposure"],
                outside=c.get("outside"),
            )
            for c in t["containers"]
        ),
    )


def result_from_json(doc: Any, path: str = "<input>") -> ScanResult:
    """Build a ``ScanResult`` from a parsed JSON result; raises ``InputError`` when malformed."""
    _check(doc, path)
    gate = doc["gate"]
    scan = doc["scan"]
    return ScanResult(
        tool_version=doc["tool"]["version"],
        started_at=datetime.fromisoformat(scan["started_at"]),
        duration_s=float(scan["duration_s"]),
        fail_on=None if gate["fail_on"] == "none" else Severity.parse(gate["fail_on"]),
        targets=tuple(_target(t) for t in doc["targets"]),
        findings=tuple(_finding(f) for f in doc["findings"]),
        rule_errors=tuple(RuleError(e["rule_id"], e["target"], e["error"]) for e in doc["rule_errors"]),
        rules_run=tuple(scan["rules_run"]),
        policy=_policy(doc["policy"]) if doc.get("policy") is not None else None,
        saved_gate=SavedGate(
            fail_on=gate["fail_on"], verdict=gate["verdict"], failing=gate.get("failing", 0)
        ),
        topology=Topology(tuple(_topology_target(t) for t in doc["topology"]["targets"]))
        if doc.get("topology") is not None
        else None,
        benchmark=bench_from_json(doc["benchmark"], path) if doc.get("benchmark") is not None else None,
    )


def read_result(path: str) -> ScanResult:
    """Read and parse a JSON result file (``-`` for stdin)."""
    doc = inputs.load_json(path, "JSON result", stdin=True)
    return result_from_json(doc, path)
