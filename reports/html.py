"""The self-contained HTML report: one file, inline CSS/JS under a hash-based CSP, no requests.

Markup lives in ``templates/report.html.j2`` (autoescaped); this module only prepares plain
data for it. The stylesheet and script are rendered first so their SHA-256 hashes can go into
the page's Content-Security-Policy, which then forbids every other script, style and request.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from functools import cache
from typing import IO, TYPE_CHECKING, Any

from auditor.model.findings import Finding, PolicySummary, ScanResult
from auditor.model.history import FindingDiff
from auditor.model.severity import ORDERED_DESC
from auditor.model.text import visible_lines
from auditor.model.topology import EXPOSURES, REACH_CLASSES

from . import topology
from .formats import DIFF, SCAN, OutputFormat

if TYPE_CHECKING:
    from jinja2 import Environment

# Findings are shown expanded up to this many; larger reports start collapsed.
OPEN_DETAILS_UP_TO = 25


@cache
def environment() -> Environment:
    from jinja2 import Environment, PackageLoader, select_autoescape  # only when HTML is written

    env = Environment(
        loader=PackageLoader("auditor.reports", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_shown,
    )
    return env


def _shown(value: object) -> object:
    """Every plain string a template prints, with control and bidi characters shown escaped
    (a U+202E in a name would reorder the page's text); markup the report builds stays."""
    from markupsafe import Markup

    return visible_lines(value) if isinstance(value, str) and not isinstance(value, Markup) else value


def csp_hash(text: str) -> str:
    """The CSP source expression that allows exactly this inline block."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def style_only_csp(css: str) -> str:
    """The CSP of a page with one inline stylesheet and nothing else: no script, no image, no
    request (the diff and benchmark pages)."""
    return "; ".join(
        (
            "default-src 'none'",
            f"style-src {csp_hash(css)}",
            "img-src 'none'",
            "base-uri 'none'",
            "form-action 'none'",
        )
    )


def _location(f: Finding) -> str:
    loc = f.location
    if loc is None:
        return ""
    text = loc.uri
    if loc.line:
        text += f":{loc.line}"
        if loc.column:
            text += f":{loc.column}"
    return text


def _safe_url(url: str | None) -> str | None:
    """Only web links become links; anything else (``javascript:`` included) stays text."""
    if url and url.lower().startswith(("https://", "http://")):
        return url
    return None


def finding_view(index: int, f: Finding) -> dict[str, Any]:
    resource = f"{f.resource.kind}/{f.resource.name}"
    return {
        "index": index,
        "rule_id": f.rule_id,
        "severity": f.severity.label,
        "title": f.title,
        "message": f.message,
        "resource": resource,
        "resource_kind": f.resource.kind,
        "resource_name": f.resource.name,
        "project": f.resource.project,
        "host": f.resource.host,
        "source": f.location.kind.value if f.location else "unknown",
        "location": _location(f),
        "evidence": list(f.evidence),
        "remediation": f.remediation,
        "references": [{"title": r.title, "url": _safe_url(r.url)} for r in f.references],
        "status": f.status,
        "baseline": f.baseline,
        "waiver": dict(f.waiver.items()) if f.waiver else None,
        "fingerprint": f.fingerprint,
    }


def _sorted_unique(values: Iterable[str]) -> list[str]:
    return sorted({v for v in values if v})


def _gate(result: ScanResult) -> dict[str, Any]:
    """The gate as the scan decided it; a result read back from JSON carries its own."""
    gate = result.gate()
    return {"verdict": gate.verdict, "fail_on": gate.fail_on, "failing": gate.failing}


def page_title(result: ScanResult) -> str:
    counts = result.counts()
    gate = _gate(result)
    return f"Docker network audit: {counts['total']} open findings, gate {gate['verdict']}"


def report_context(result: ScanResult) -> dict[str, Any]:
    """Everything the template shows, as plain data."""
    findings = [finding_view(i, f) for i, f in enumerate(result.findings)]
    groups = [
        {"severity": s.label, "findings": [f for f in findings if f["severity"] == s.label]}
        for s in ORDERED_DESC
    ]
    counts = result.counts()
    pictures = topology.pictures(result)
    policy = result.policy or PolicySummary()
    waived = sum(1 for f in result.findings if f.status != "open")
    filters = {
        "severity": [s.label for s in ORDERED_DESC if any(f["severity"] == s.label for f in findings)],
        "rule": _sorted_unique(f["rule_id"] for f in findings),
        "resource": _sorted_unique(f["resource"] for f in findings),
        "source": _sorted_unique(f["source"] for f in findings),
        "status": _sorted_unique(
            [f["status"] for f in findings] + [f["baseline"] for f in findings if f["baseline"]]
        ),
    }
    script_data = {
        "findings": [
            {k: f[k] for k in ("index", "severity", "rule_id", "resource", "source", "status", "baseline")}
            | {"text": " ".join((f["title"], f["message"], f["location"])).lower()}
            for f in findings
        ],
    }
    return {
        "title": page_title(result),
        "tool_version": result.tool_version,
        "started_at": result.started_at.strftime("%Y-%m-%d %H:%M:%S %Z").strip(),
        "duration_s": result.duration_s,
        "rules_run": list(result.rules_run),
        "gate": _gate(result),
        "complete": result.complete,
        "counts": counts,
        "severities": [s.label for s in ORDERED_DESC],
        "waived": waived,
        "uses_baseline": any(f.baseline for f in result.findings),
        "targets": list(result.targets),
        "rule_errors": list(result.rule_errors),
        "groups": groups,
        "total_findings": len(findings),
        "open_details": len(findings) <= OPEN_DETAILS_UP_TO,
        "filters": filters,
        "script_data": script_data,
        "pictures": pictures,
        "exposures": EXPOSURES,
        "reaches": REACH_CLASSES if any(box["reach"] for pic in pictures for box in pic["boxes"]) else (),
        "bench": result.benchmark,
        "baseline": policy.baseline,
        "fail_on_new": policy.fail_on_new,
        "expired_waivers": list(policy.expired_waivers),
    }


def render_html(result: ScanResult) -> str:
    env = environment()
    context = report_context(result)
    css = env.get_template("_report.css.j2").render()
    js = env.get_template("_report.js.j2").render()
    csp = "; ".join(
        (
            "default-src 'none'",
            f"style-src {csp_hash(css)}",
            f"script-src {csp_hash(js)}",
            "img-src data:",
            "base-uri 'none'",
            "form-action 'none'",
        )
    )
    from markupsafe import Markup

    return env.get_template("report.html.j2").render(context, css=Markup(css), js=Markup(js), csp=csp)  # noqa: S704 - our own static CSS/JS


def render(result: ScanResult, stream: IO[str]) -> None:
    stream.write(render_html(result))


def render_diff(diff: FindingDiff, stream: IO[str]) -> None:
    """A scan-to-scan diff page with the report's stylesheet under the same hashed CSP."""
    env = environment()
    css = env.get_template("_report.css.j2").render()
    csp = style_only_csp(css)
    from markupsafe import Markup

    stream.write(env.get_template("diff.html.j2").render(diff=diff, css=Markup(css), csp=csp))  # noqa: S704 - our own static CSS


FORMAT = OutputFormat("html", (".html", ".htm"), ((SCAN, render), (DIFF, render_diff)))
