"""A short Markdown summary for a pull-request comment or a CI job summary.

Long lists are capped (``MAX_ROWS`` findings, ``MAX_CELL`` characters a cell) and the summary
says how many were left out. Every value from the scan goes through ``md_escape`` (Jinja's
``finalize``), so container names, labels and messages cannot inject Markdown, HTML or
@-mentions; the markup itself lives in ``templates/summary.md.j2``.
"""

from __future__ import annotations

import html
import re
from dataclasses import replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from auditor.model.findings import PolicySummary, ScanResult
from auditor.model.history import FindingDiff
from auditor.model.severity import ORDERED_DESC
from auditor.model.text import visible

from .ci_common import expired_waivers, places
from .formats import DIFF, SCAN, OutputFormat

if TYPE_CHECKING:
    import jinja2

MAX_ROWS = 25
MAX_CELL = 160
TEMPLATE = "summary.md.j2"
_MD_INLINE = re.compile(r"([\\`*_\[\]|~])")  # inline markup, anywhere in a value
_MD_BLOCK_START = re.compile(r"^(\d+)([.)])|^([#+\-=>])")  # block markup, only at the start


def md_escape(value: Any) -> str:
    """Plain text that renders as itself in GitHub/GitLab Markdown, on one line (control and
    bidi characters shown escaped)."""
    if value is None:
        return ""
    text = visible(" ".join(str(value).split()))
    text = html.escape(text, quote=False)
    text = _MD_INLINE.sub(r"\\\1", text)
    text = _MD_BLOCK_START.sub(
        lambda m: f"{m.group(1)}\\{m.group(2)}" if m.group(1) else f"\\{m.group(3)}", text
    )
    return text.replace("@", "&#64;")


def shorten(text: str, limit: int = MAX_CELL) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _environment(finalize: bool = True) -> jinja2.Environment:
    """The Markdown templates' environment; ``finalize`` escapes every value (else templates
    escape with the ``md`` filter). jinja2 is imported here: only Markdown output needs it."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "templates")),
        autoescape=False,  # noqa: S701 - Markdown, not HTML: every value is escaped (finalize or `md`)
        finalize=md_escape if finalize else None,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["md"] = md_escape
    return env


def summary_context(result: ScanResult) -> dict[str, Any]:
    where = places(result)
    open_findings = [f for f in result.findings if f.status == "open"]
    rows = []
    for f in open_findings[:MAX_ROWS]:
        place = where[f.fingerprint]
        loc = place.uri + (f":{place.line}" if place.line else "")
        rows.append(
            {
                "severity": f.severity.label,
                "rule": f.rule_id,
                "resource": shorten(f"{f.resource.kind} {f.resource.name}"),
                "message": shorten(f.message),
                "location": shorten(loc),
                "baseline": f.baseline or "",
                "expired": bool(f.waiver and f.waiver.state == "expired"),
            }
        )
    counts = result.counts()
    policy = result.policy or PolicySummary()
    gate = result.gate()
    return {
        "verdict": gate.verdict,
        "fail_on": gate.fail_on,
        "fail_on_new": policy.fail_on_new,
        "failing": gate.failing,
        "counts": [(s.label, counts[s.label]) for s in ORDERED_DESC],
        "total": counts["total"],
        "waived": sum(1 for f in result.findings if f.status == "waived"),
        "baseline": policy.baseline,
        "rows": rows,
        "omitted": max(0, len(open_findings) - MAX_ROWS),
        "expired": [
            replace(w, match=shorten(w.match), reason=shorten(w.reason))
            for w in expired_waivers(result)[:MAX_ROWS]
        ],
        "expired_omitted": max(0, len(expired_waivers(result)) - MAX_ROWS),
        "problems": [
            f"{t.target.kind.value} {t.target.name}: {shorten(t.error or t.status)}"
            for t in result.targets
            if t.status != "complete"
        ]
        + [f"rule {e.rule_id} crashed on {e.target}" for e in result.rule_errors],
        "show_baseline": policy.baseline is not None,
    }


def render(result: ScanResult, stream: IO[str]) -> None:
    stream.write(_environment().get_template(TEMPLATE).render(**summary_context(result)))


def render_diff(diff: FindingDiff, stream: IO[str]) -> None:
    """A scan-to-scan diff (``templates/diff.md.j2``); values go through the ``md`` filter."""
    stream.write(_environment(finalize=False).get_template("diff.md.j2").render(diff=diff))


FORMAT = OutputFormat("markdown", (".md",), ((SCAN, render), (DIFF, render_diff)))
