"""SARIF 2.1.0 for GitHub code scanning (and any other SARIF consumer).

GitHub's extra rules are kept: every result has a physical location with a valid URI and a
region, every rule has shortDescription, fullDescription and help, and ``security-severity``
is a string score counted because the rule is tagged ``security``. Alerts stay stable across
runs and container re-creation through ``partialFingerprints`` built from the finding's
name-based fingerprint. Waived findings are carried as accepted suppressions (``external``
for the waivers file, ``inSource`` for inline ignores).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import IO, Any

from auditor.model.findings import Finding, ScanResult
from auditor.model.jsontext import dumps
from auditor.model.rule import RuleMeta
from auditor.model.severity import Severity
from auditor.model.text import visible

from .ci_common import Place, expired_waivers, logical_name, places, rule_metas, scan_root
from .formats import SCAN, OutputFormat

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"  # the base every repository-relative artifact URI is relative to
FINGERPRINT_KEY = "auditorFingerprint/v1"

# The one place severity becomes SARIF vocabulary: (level, security-severity score).
SEVERITY_MAP: dict[Severity, tuple[str, str]] = {
    Severity.CRITICAL: ("error", "9.5"),
    Severity.HIGH: ("error", "8.0"),
    Severity.MEDIUM: ("warning", "5.5"),
    Severity.LOW: ("note", "3.0"),
    Severity.INFO: ("note", "1.0"),
}


def level(severity: Severity) -> str:
    return SEVERITY_MAP[severity][0]


def score(severity: Severity) -> str:
    return SEVERITY_MAP[severity][1]


def rule_name(title: str) -> str:
    """An identifier-like name from the title: ``Port published on all interfaces`` -> ``PortPublishedOnAllInterfaces``."""
    return "".join(w[:1].upper() + w[1:] for w in re.findall(r"[A-Za-z0-9]+", title)) or "Rule"


def _help_markdown(meta: RuleMeta) -> str:
    lines = [f"**{meta.title}**", "", meta.rationale, "", "**Fix:** " + meta.remediation]
    refs = [f"- [{r.title}]({r.url})" if r.url else f"- {r.title}" for r in meta.references]
    if refs:
        lines += ["", "**References:**", *refs]
    return "\n".join(lines)


def _help_text(meta: RuleMeta) -> str:
    refs = [f"- {r.title}" + (f" <{r.url}>" if r.url else "") for r in meta.references]
    text = f"{meta.rationale}\n\nFix: {meta.remediation}"
    return text + ("\n\nReferences:\n" + "\n".join(refs) if refs else "")


def rule_descriptor(meta: RuleMeta, severity: Severity) -> dict[str, Any]:
    tags = ["security", *(t for t in meta.tags if t != "security")]
    out: dict[str, Any] = {
        "id": meta.id,
        "name": rule_name(meta.title),
        "shortDescription": {"text": meta.title},
        "fullDescription": {"text": meta.rationale},
        "help": {"text": _help_text(meta), "markdown": _help_markdown(meta)},
        "defaultConfiguration": {"level": level(severity)},
        "properties": {
            "tags": tags,
            "security-severity": score(severity),
            "precision": "high",
            "problem.severity": severity.label,
        },
    }
    url = next((r.url for r in meta.references if r.url), None)
    if url:
        out["helpUri"] = url
    return out


def _fallback_meta(f: Finding) -> RuleMeta:
    """A rule that is no longer discoverable (e.g. a removed plugin) still gets a descriptor."""
    return RuleMeta(
        id=f.rule_id, title=f.title, severity=f.severity, rationale=f.title, remediation=f.remediation
    )


def _location(f: Finding, place: Place) -> dict[str, Any]:
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": place.uri, **({"uriBaseId": SRCROOT} if place.in_repo else {})},
            "region": {"startLine": place.line or 1},
        },
        "logicalLocations": [
            {"name": f.resource.name, "fullyQualifiedName": logical_name(f), "kind": "resource"}
        ],
    }


_LINK_SYNTAX = re.compile(r"([\\\[\]])")


def sarif_text(text: str) -> str:
    """A plain-text SARIF message as its viewers show it. SARIF reads ``[text](target)`` in a
    message as an embedded link (GitHub renders it), so brackets and backslashes from names are
    escaped with a backslash as SARIF 2.1.0 (3.11.6) prescribes; control and bidi characters
    are shown escaped."""
    return _LINK_SYNTAX.sub(r"\\\1", visible(text))


def result_entry(f: Finding, rule_index: int, place: Place) -> dict[str, Any]:
    props: dict[str, Any] = {
        "severity": f.severity.label,
        "security-severity": score(f.severity),
        "resource": {
            "kind": f.resource.kind,
            "name": f.resource.name,
            "project": f.resource.project,
            "host": f.resource.host,
        },
        "evidence": dict(f.evidence),
    }
    entry: dict[str, Any] = {
        "ruleId": f.rule_id,
        "ruleIndex": rule_index,
        "level": level(f.severity),
        "message": {"text": sarif_text(f.message)},
        "locations": [_location(f, place)],
        "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint},
        "properties": props,
    }
    if f.baseline is not None:
        entry["baselineState"] = "new" if f.baseline == "new" else "unchanged"
    if f.waiver is not None:
        props["waiver"] = dict(f.waiver.items())
    if f.status == "waived" and f.waiver is not None:
        w = f.waiver
        if w.state == "inline":  # written next to the finding: SARIF's in-source suppression
            suppression = {
                "kind": "inSource",
                "status": "accepted",
                "justification": visible(f"{w.reason} ({w.source})"),
            }
        else:
            suppression = {
                "kind": "external",
                "status": "accepted",
                "justification": visible(f"{w.reason} (owner: {w.owner or '?'}, expires {w.expires or '?'})"),
            }
        entry["suppressions"] = [suppression]
    return entry


def _notifications(result: ScanResult) -> list[dict[str, Any]]:
    out = []
    for w in expired_waivers(result):
        out.append(
            {
                "level": "warning",
                "descriptor": {"id": "expired-waiver"},
                "associatedRule": {"id": w.rule},
                "message": {
                    "text": sarif_text(
                        f"Waiver for {w.rule} ({w.match}) owned by {w.owner} expired on "
                        f"{w.expires} and no longer suppresses {w.findings} finding(s): {w.source}"
                    )
                },
            }
        )
    return out


def _directory_uri(path: Path) -> str:
    """An absolute ``file:`` URI of a directory; SARIF wants the trailing slash."""
    text = path.as_uri()
    return text if text.endswith("/") else text + "/"


def sarif_json(result: ScanResult) -> dict[str, Any]:
    metas = rule_metas(result)
    overrides = dict(result.policy.severity_overrides) if result.policy is not None else {}
    for f in result.findings:
        metas.setdefault(f.rule_id, _fallback_meta(f))
    rule_ids = sorted(metas)
    index = {rid: i for i, rid in enumerate(rule_ids)}
    rules = [rule_descriptor(metas[rid], overrides.get(rid, metas[rid].severity)) for rid in rule_ids]
    where = places(result)
    results = [result_entry(f, index[f.rule_id], where[f.fingerprint]) for f in result.findings]
    invocation: dict[str, Any] = {"executionSuccessful": result.complete}
    notes = _notifications(result)
    if notes:
        invocation["toolConfigurationNotifications"] = notes
    errors = [
        {
            "level": "error",
            "message": {"text": sarif_text(f"rule {e.rule_id} crashed on {e.target}: {e.error}")},
            "associatedRule": {"id": e.rule_id},
        }
        for e in result.rule_errors
    ]
    errors += [
        {
            "level": "error",
            "message": {"text": sarif_text(f"{t.target.kind.value} {t.target.name}: {t.error}")},
        }
        for t in result.targets
        if t.error
    ]
    if errors:
        invocation["toolExecutionNotifications"] = errors
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "auditor",
                        "version": result.tool_version,
                        "semanticVersion": result.tool_version,
                        "rules": rules,
                    }
                },
                "automationDetails": {"id": "auditor/docker-network/"},
                "originalUriBaseIds": {SRCROOT: {"uri": _directory_uri(scan_root(result))}},
                "invocations": [invocation],
                "results": results,
                "columnKind": "unicodeCodePoints",
            }
        ],
    }


def render(result: ScanResult, stream: IO[str]) -> None:
    stream.write(dumps(sarif_json(result)))
    stream.write("\n")


FORMAT = OutputFormat("sarif", (".sarif", ".sarif.json"), ((SCAN, render),))
