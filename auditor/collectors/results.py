"""Read a JSON result (written by ``reports/json_report.py``) back into a ``ScanResult``.

Scheduled scans keep their JSON; ``auditor report`` renders it later. Every field is checked
for its type, so a malformed or foreign file is one ``InputError`` (exit 2), never a traceback.
The saved gate, policy summary, topology and benchmark come back as the typed fields of
``ScanResult``, so a saved result renders as it was written.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
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
from auditor.model.topology import EXPOSURE_NAMES, TopoContainer, Topology, TopoNetwork, TopoPort, TopoTarget

SUPPORTED_MAJOR = "1"
WAIVER_KEYS = ("rule", "match", "reason", "owner", "expires", "source", "state")
EXPIRED_TEXT_KEYS = ("rule", "match", "reason", "owner", "expires", "source")


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
    waiver = None
    if f.get("waiver") is not None:
        w = r.obj(f["waiver"], f"{where}.waiver")
        waiver = WaiverNote(**{key: "" if w.get(key) is None else str(w.get(key)) for key in WAIVER_KEYS})
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
    saved_gate = None
    if gate.get("verdict"):
        saved_gate = SavedGate(
            fail_on=str(gate.get("fail_on", "none")),
            verdict=r.text(gate.get("verdict"), "gate.verdict") or "",
            failing=int(r.number(gate.get("failing", 0), "gate.failing") or 0),
        )
    policy = _policy(r, top["policy"]) if top.get("policy") is not None else None
    topology = None
    if top.get("topology") is not None:
        topo = r.obj(top["topology"], "topology")
        topology = Topology(tuple(_topology_target(r, t, f"topology.targets[{i}]")
                                  for i, t in enumerate(r.lst(topo.get("targets"), "topology.targets"))))
    benchmark = bench_from_json(top["benchmark"], r.path) if top.get("benchmark") is not None else None
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
        policy=policy,
        saved_gate=saved_gate,
        topology=topology,
        benchmark=benchmark,
    )


def _policy(r: _Reader, doc: Any) -> PolicySummary:
    """The JSON ``policy`` block back into the summary the policy step writes."""
    p = r.obj(doc, "policy")
    expired = []
    for i, w in enumerate(r.lst(p.get("expired_waivers"), "policy.expired_waivers")):
        w = r.obj(w, f"policy.expired_waivers[{i}]")
        at = f"policy.expired_waivers[{i}]"
        expired.append(ExpiredWaiver(
            **{key: r.text(w.get(key, ""), f"{at}.{key}") or "" for key in EXPIRED_TEXT_KEYS},
            findings=int(r.number(w.get("findings", 0), f"{at}.findings") or 0),
        ))
    baseline = None
    if p.get("baseline") is not None:
        b = r.obj(p["baseline"], "policy.baseline")
        baseline = BaselineSplit(new=int(r.number(b.get("new", 0), "policy.baseline.new") or 0),
                                 existing=int(r.number(b.get("existing", 0), "policy.baseline.existing") or 0))
    overrides = r.obj(p.get("severity_overrides") or {}, "policy.severity_overrides")
    return PolicySummary(
        fail_on_new=bool(p.get("fail_on_new")),
        waived=int(r.number(p.get("waived", 0), "policy.waived") or 0),
        expired_waivers=tuple(expired),
        baseline=baseline,
        severity_overrides=tuple(sorted((str(k), r.severity(v, f"policy.severity_overrides.{k}"))
                                        for k, v in overrides.items())),
    )


def _flag(r: _Reader, value: Any, where: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise r.fail(where, "expected true, false or null")


def _topology_target(r: _Reader, doc: Any, where: str) -> TopoTarget:
    """One target of the picture, with the shape the layout expects (names, lists, strings)."""
    t = r.obj(doc, where)
    networks = []
    for i, n in enumerate(r.lst(t.get("networks"), f"{where}.networks")):
        at = f"{where}.networks[{i}]"
        n = r.obj(n, at)
        networks.append(TopoNetwork(
            name=r.text(n.get("name"), f"{at}.name") or "",
            driver=r.text(n.get("driver"), f"{at}.driver", optional=True),
            internal=_flag(r, n.get("internal"), f"{at}.internal"),
            default_bridge=bool(_flag(r, n.get("default_bridge"), f"{at}.default_bridge")),
            icc=_flag(r, n.get("icc"), f"{at}.icc"),
        ))
    containers = []
    for i, c in enumerate(r.lst(t.get("containers"), f"{where}.containers")):
        at = f"{where}.containers[{i}]"
        c = r.obj(c, at)
        ports = []
        for j, port in enumerate(r.lst(c.get("ports"), f"{at}.ports")):
            port = r.obj(port, f"{at}.ports[{j}]")
            ports.append(TopoPort(r.text(port.get("display"), f"{at}.ports[{j}].display") or "",
                                  _exposure(r, port.get("exposure"), f"{at}.ports[{j}].exposure")))
        containers.append(TopoContainer(
            kind=r.text(c.get("kind"), f"{at}.kind") or "",
            name=r.text(c.get("name"), f"{at}.name") or "",
            state=r.text(c.get("state"), f"{at}.state", optional=True),
            network_mode=r.text(c.get("network_mode"), f"{at}.network_mode") or "",
            joins=r.text(c.get("joins"), f"{at}.joins", optional=True),
            networks=tuple(r.text(n, f"{at}.networks") or "" for n in r.lst(c.get("networks"), f"{at}.networks")),
            ports=tuple(ports),
            exposure=_exposure(r, c.get("exposure"), f"{at}.exposure"),
        ))
    return TopoTarget(
        target=r.text(t.get("target"), f"{where}.target") or "",
        kind=r.text(t.get("kind", ""), f"{where}.kind") or "",
        networks=tuple(networks),
        containers=tuple(containers),
    )


def _exposure(r: _Reader, value: Any, where: str) -> str:
    if value not in EXPOSURE_NAMES:
        raise r.fail(where, f"unknown exposure {value!r}")
    return str(value)


def read_result(path: str) -> ScanResult:
    """Read and parse a JSON result file (``-`` for stdin)."""
    doc = inputs.load_json(path, "JSON result", stdin=True)
    return result_from_json(doc, path)
