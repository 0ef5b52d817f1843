"""The standalone benchmark page (``auditor bench -o bench.html``): charts, tables, environment.

Charts come from the shared ``_bench_charts.html.j2`` macros (also used by the scan report),
which read the ``BenchResult`` records; the tables get plain strings prepared here. Inline CSS
is allowed by its hash, nothing else loads.
"""

from __future__ import annotations

from typing import IO

from markupsafe import Markup

from auditor.model.bench import BenchResult, Measurements, MetricRatios, ModeResult, Percentiles

from .bench_format import gbit, number, ratio
from .formats import BENCH, OutputFormat
from .html import environment, style_only_csp

BPS = "{:.2f} Gbit/s"

PAGE_CSS = """
body{font:14px system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:980px;padding:0 1rem;color:#1f2430}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}
.note{color:#667085;font-size:.85rem}
table.bt{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}
table.bt th,table.bt td{border-bottom:1px solid #d0d5dd;padding:.25rem .6rem;text-align:left;vertical-align:top}
table.bt td.n{text-align:right;font-variant-numeric:tabular-nums}
.real{font-weight:600}
.flag{display:inline-block;background:#fef3c7;border-radius:3px;padding:0 .3rem;margin-right:.2rem}
"""


def _ratio_rows(metrics: MetricRatios) -> list[dict[str, object]]:
    return [{"name": name, "text": ratio(r), "real": bool(r and r.real)} for name, r in metrics.items()]


def _row(m: ModeResult, measured: Measurements) -> dict[str, object]:
    t = measured.throughput_bps
    lat = measured.latency_us or Percentiles()
    rev, srtt, conn = (
        measured.reverse_throughput_bps,
        measured.smoothed_rtt_under_load_us,
        measured.connections_per_s,
    )
    cpu = measured.cpu.throughput
    return {
        "mode": m.mode,
        "path": measured.path or "",
        "throughput": gbit(t.median, BPS),
        "throughput_ci": f"{gbit(t.ci_low, BPS)} – {gbit(t.ci_high, BPS)}"
        if t.ci_low is not None
        else "n < 3",
        "reverse": gbit(rev.median if rev else None, BPS),
        "srtt": number(srtt.median if srtt else None),
        "p50": number(lat.p50),
        "p99": number(lat.p99),
        "p999": number(lat.p999),
        "conn": number(conn.median if conn else None),
        "cpu": " / ".join(number(v) for v in (cpu.client, cpu.server, cpu.proxy)),
        "flags": list(measured.flags),
        "errors": list(measured.errors),
        "ratios": [
            {"base": c.reference, "metrics": _ratio_rows(c.metrics)} for c in measured.ratio_to_baseline
        ],
    }


def context(result: BenchResult) -> dict[str, object]:
    """Plain strings and numbers for the template (formatting stays out of the markup)."""
    return {
        "bench": result,
        "rows": [_row(m, m.measured) for m in result.modes if m.measured is not None],
        "comparisons": [
            {"mode": c.mode, "reference": c.reference, "metrics": _ratio_rows(c.metrics)}
            for c in result.comparisons
        ],
        "env": result.environment,
        "run": result.run,
    }


def render_string(result: BenchResult) -> str:
    """The whole page, self-contained (inline CSS allowed by its hash, nothing loaded)."""
    env = environment()
    charts = env.get_template("_bench_charts.html.j2").module
    css = PAGE_CSS + str(charts.styles())  # type: ignore[attr-defined]  # a macro the template defines
    csp = style_only_csp(css)
    return env.get_template("bench.html.j2").render(context(result), css=Markup(css), csp=csp)  # noqa: S704 - our own static CSS


def render_html(result: BenchResult, stream: IO[str]) -> None:
    """Write the page for a benchmark result."""
    stream.write(render_string(result))


FORMAT = OutputFormat("html", (".html", ".htm"), ((BENCH, render_html),))
