"""Read a JSON result (written by ``reports/json_report.py``) back into a ``ScanResult``.

Scheduled scans keep their JSON; ``auditor report`` renders it later. Every field is checked
for its type, so a malformed or foreign file is one ``InputError`` (exit 2), never a traceback.
The saved gate, topology and benchmark travel in ``ScanResult.extras``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from auditor.model import inputs
from auditor.model.bench import from_json as bench_from_json
from auditor.model.errors import InputError
from auditor.model.findings import Finding, Resource, RuleError, ScanResult, TargetResult
from auditor.model.records import Origin, SourceKind, Target
from auditor.model.rule import Reference
from auditor.model.severity import Severity

SUPPORTED_MAJOR = "1"
EXPOSURE_NAMES = ("host", "all", "address", "loopback", "unpublished")  # reports/topology.py


class _Reader:
    """Typed access to one JSON document that names the offending field on error."""

    def __init__(self, path: str):
        self.path = path

    def fail(self, where: str, problem: str) -> InputError:
        return InputError(f"not a valid auditor JSON result: {where}: {problem}", self.path)

    def obj(self, value: Any, where: str) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "expected an object")
        return value

    def lst(self, value: Any, where: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(where, "expected a list")
        return value

    def text(self, value: Any, where: str, optional: bool = False) -> str | None:
        if value is None and optional:
            return None
        if not isinstance(value, str):
            raise self.fail(where, "expected a string")
        return value

    def number(self, value: Any, where: str, optional: bool = False) -> float | None:
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(where, "expected a number")
        return value

    def source(self, value: Any, where: str) -> SourceKind:
        try:
            return SourceKind(self.text(value, where))
        except ValueError:
            raise self.fail(where, f"unknown source kind {value!r}") from None

    def severity(self, value: Any, where: str) -> Severity:
        try:
            return Severity.parse(self.text(value, where) or "")
        except ValueError as exc:
            raise self.fail(where, str(exc)) from None


def _target(r: _Reader, doc: Any, where: str) -> TargetResult:
    t = r.obj(doc, where)
    return TargetResult(
        target=Target(
            r.source(t.get("kind"), f"{where}.kind"),
            r.text(t.get("name"), f"{where}.name") or "",
            r.text(t.get("address", t.get("name")), f"{where}.address") or "",
        ),
        status=r.text(t.get("status"), f"{where}.status") or "",
        error=r.text(t.get("error"), f"{where}.error", optional=True),
        notes=tuple(r.text(n, f"{where}.notes") or "" for n in r.lst(t.get("notes"), f"{where}.notes")),
        not_checked=tuple(
            r.text(n, f"{where}.not_checked") or ""
            for n in r.lst(t.get("not_checked"), f"{where}.not_checked")
        ),
        containers=int(r.number(t.get("containers", 0), f"{where}.containers") or 0),
        networks=int(r.number(t.get("networks", 0), f"{where}.networks") or 0),
    )


def _location(r: _Reader, doc: Any, where: str) -> Origin | None:
    if doc is None:
        return None
    loc = r.obj(doc, where)
    if loc.get("source") is None:
        return None
    line = r.number(loc.get("line"), f"{where}.line", optional=True)
    column = r.number(loc.get("column"), f"{where}.column", optional=True)
    return Origin(
        kind=r.source(loc.get("source"), f"{where}.source"),
        uri=r.text(loc.get("uri"), f"{where}.uri") or "",
        line=int(line) if line is not None else None,
        column=int(column) if column is not None else None,
    )


def _finding(r: _Reader, doc: Any, where: str) -> Finding:
    f = r.obj(doc, where)
    res = r.obj(f.get("resource"), f"{where}.resource")
    evidence = r.obj(f.get("evidence") or {}, f"{where}.evidence")
    refs = []
    for i, ref in enumerate(r.lst(f.get("references"), f"{where}.references")):
        ref = r.obj(ref, f"{where}.references[{i}]")
        refs.append(
            Reference(
                r.text(ref.get("title"), f"{where}.references[{i}].title") or "",
                r.text(ref.get("url"), f"{where}.references[{i}].url", optional=True),
            )
        )
    waiver = f.get("waiver")
    if waiver is not None:
        waiver = {str(k): "" if v is None else str(v) for k, v in r.obj(waiver, f"{where}.waiver").items()}
    return Finding(
        rule_id=r.text(f.get("rule_id"), f"{where}.rule_id") or "",
        severity=r.severity(f.get("severity"), f"{where}.severity"),
        title=r.text(f.get("title", ""), f"{where}.title") or "",
        message=r.text(f.get("message"), f"{where}.message") or "",
        resource=Resource(
            kind=r.text(res.get("kind"), f"{where}.resource.kind") or "",
            name=r.text(res.get("name"), f"{where}.resource.name") or "",
            id=r.text(res.get("id"), f"{where}.resource.id", optional=True),
            project=r.text(res.get("project"), f"{where}.resource.project", optional=True),
            host=r.text(res.get("host"), f"{where}.resource.host", optional=True),
        ),
        location=_location(r, f.get("location"), f"{where}.location"),
        evidence=tuple((str(k), "" if v is None else str(v)) for k, v in evidence.items()),
        remediation=r.text(f.get("remediation", ""), f"{where}.remediation") or "",
        fingerprint=r.text(f.get("fingerprint", ""), f"{where}.fingerprint") or "",
        references=tuple(refs),
        status=r.text(f.get("status", "open"), f"{where}.status") or "open",
        baseline=r.text(f.get("baseline"), f"{where}.baseline", optional=True),
        waiver=waiver,
    )


def result_from_json(doc: Any, path: str = "<input>") -> ScanResult:
    """Build a ``ScanResult`` from a parsed JSON result; raises ``InputError`` when malformed."""
    r = _Reader(path)
    top = r.obj(doc, "document")
    version = top.get("schema_version")
    if not isinstance(version, str) or version.split(".")[0] != SUPPORTED_MAJOR:
        raise r.fail("schema_version", f"expected {SUPPORTED_MAJOR}.x, got {version!r}")
    tool = r.obj(top.get("tool") or {}, "tool")
    scan = r.obj(top.get("scan"), "scan")
    started = r.text(scan.get("started_at"), "scan.started_at") or ""
    try:
        started_at = datetime.fromisoformat(started)
    except ValueError:
        raise r.fail("scan.started_at", f"not an ISO 8601 time: {started!r}") from None
    gate = r.obj(top.get("gate") or {}, "gate")
    fail_on_text = gate.get("fail_on", "none")
    fail_on = None if fail_on_text in (None, "none") else r.severity(fail_on_text, "gate.fail_on")
    errors = []
    for i, e in enumerate(r.lst(top.get("rule_errors"), "rule_errors")):
        e = r.obj(e, f"rule_errors[{i}]")
        errors.append(
            RuleError(
                r.text(e.get("rule_id"), f"rule_errors[{i}].rule_id") or "",
                r.text(e.get("target"), f"rule_errors[{i}].target") or "",
                r.text(e.get("error"), f"rule_errors[{i}].error") or "",
            )
        )
    if "findings" not in top:
        raise r.fail("findings", "missing")
    extras: dict[str, Any] = {"gate": dict(gate)} if gate else {}
    if top.get("policy") is not None:
        extras.update(_policy(r, top["policy"]))
    if top.get("topology") is not None:
        topo = r.obj(top["topology"], "topology")
        for i, t in enumerate(r.lst(topo.get("targets"), "topology.targets")):
            _check_topology_target(r, t, f"topology.targets[{i}]")
        extras["topology"] = topo
    if top.get("benchmark") is not None:
        extras["benchmark"] = bench_from_json(top["benchmark"], r.path)
    return ScanResult(
        tool_version=r.text(tool.get("version", "unknown"), "tool.version") or "unknown",
        started_at=started_at,
        duration_s=float(r.number(scan.get("duration_s", 0.0), "scan.duration_s") or 0.0),
        fail_on=fail_on,
        targets=tuple(
            _target(r, t, f"targets[{i}]") for i, t in enumerate(r.lst(top.get("targets"), "targets"))
        ),
        findings=tuple(
            _finding(r, f, f"findings[{i}]") for i, f in enumerate(r.lst(top.get("findings"), "findings"))
        ),
        rule_errors=tuple(errors),
        rules_run=tuple(
            r.text(x, "scan.rules_run") or "" for x in r.lst(scan.get("rules_run"), "scan.rules_run")
        ),
        extras=extras,
    )


def _policy(r: _Reader, doc: Any) -> dict[str, Any]:
    """The JSON ``policy`` block back into the extras the policy step writes."""
    p = r.obj(doc, "policy")
    out: dict[str, Any] = {
        "fail_on_new": bool(p.get("fail_on_new")),
        "waived": int(r.number(p.get("waived", 0), "policy.waived") or 0),
        "expired_waivers": [
            dict(r.obj(w, f"policy.expired_waivers[{i}]"))
            for i, w in enumerate(r.lst(p.get("expired_waivers"), "policy.expired_waivers"))
        ],
        "severity_overrides": dict(r.obj(p.get("severity_overrides") or {}, "policy.severity_overrides")),
    }
    if p.get("baseline") is not None:
        out["baseline"] = dict(r.obj(p["baseline"], "policy.baseline"))
    return out


def _check_topology_target(r: _Reader, doc: Any, where: str) -> None:
    """The picture's input must have the shape the layout expects (names, lists, strings)."""
    t = r.obj(doc, where)
    r.text(t.get("target"), f"{where}.target")
    for i, n in enumerate(r.lst(t.get("networks"), f"{where}.networks")):
        r.text(r.obj(n, f"{where}.networks[{i}]").get("name"), f"{where}.networks[{i}].name")
    for i, c in enumerate(r.lst(t.get("containers"), f"{where}.containers")):
        c = r.obj(c, f"{where}.containers[{i}]")
        at = f"{where}.containers[{i}]"
        for key in ("kind", "name", "network_mode"):
            r.text(c.get(key), f"{at}.{key}")
        _exposure(r, c.get("exposure"), f"{at}.exposure")
        for n in r.lst(c.get("networks"), f"{at}.networks"):
            r.text(n, f"{at}.networks")
        for j, p in enumerate(r.lst(c.get("ports"), f"{at}.ports")):
            p = r.obj(p, f"{at}.ports[{j}]")
            r.text(p.get("display"), f"{at}.ports[{j}].display")
            _exposure(r, p.get("exposure"), f"{at}.ports[{j}].exposure")


def _exposure(r: _Reader, value: Any, where: str) -> None:
    if value not in EXPOSURE_NAMES:
        raise r.fail(where, f"unknown exposure {value!r}")


def read_result(path: str) -> ScanResult:
    """Read and parse a JSON result file (``-`` for stdin)."""
    doc = inputs.load_json(path, "JSON result", stdin=True)
    return result_from_json(doc, path)
