"""The standalone benchmark page (``auditor bench -o bench.html``): charts, tables, environment.

Charts come from the shared ``_bench_charts.html.j2`` macros (also used by the scan report);
this module only prepares plain data. Inline CSS is allowed by its hash, nothing else loads.
"""

from __future__ import annotations

from typing import IO

from markupsafe import Markup

from .html import csp_hash, environment

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


def _fmt_bps(value) -> str:
    return "-" if not isinstance(value, int | float) else f"{value / 1e9:.2f} Gbit/s"


def _fmt(value, pattern: str = "{:.0f}") -> str:
    return "-" if not isinstance(value, int | float) else pattern.format(value)


def _fmt_ratio(r: dict | None) -> str:
    if not r or not isinstance(r.get("ratio"), int | float):
        return "-"
    text = f"{r['ratio']:.2f}×"
    if isinstance(r.get("ci_low"), int | float) and isinstance(r.get("ci_high"), int | float):
        text += f" ({r['ci_low']:.2f}–{r['ci_high']:.2f})"
    return text


def context(doc: dict) -> dict:
    """Plain strings and numbers for the template (formatting stays out of the markup)."""
    rows = []
    for m in doc.get("modes", []):
        if m.get("status") != "ok":
            continue
        t = m.get("throughput_bps") or {}
        lat = m.get("latency_us") or {}
        conn = m.get("connections_per_s") or {}
        cpu = (m.get("cpu") or {}).get("throughput") or {}
        rows.append(
            {
                "mode": m["mode"],
                "path": m.get("path") or "",
                "throughput": _fmt_bps(t.get("median")),
                "throughput_ci": f"{_fmt_bps(t.get('ci_low'))} – {_fmt_bps(t.get('ci_high'))}"
                if t.get("ci_low") is not None
                else "n < 3",
                "reverse": _fmt_bps((m.get("reverse_throughput_bps") or {}).get("median")),
                "srtt": _fmt((m.get("smoothed_rtt_under_load_us") or {}).get("median")),
                "p50": _fmt(lat.get("p50")),
                "p99": _fmt(lat.get("p99")),
                "p999": _fmt(lat.get("p999")),
                "conn": _fmt(conn.get("median")),
                "cpu": " / ".join(_fmt(cpu.get(k)) for k in ("client", "server", "proxy")),
                "flags": m.get("flags") or [],
                "errors": m.get("errors") or [],
                "ratios": [
                    {
                        "base": base,
                        "metrics": [
                            {"name": name, "text": _fmt_ratio(r), "real": bool(r and r.get("real"))}
                            for name, r in (entry.get("metrics") or {}).items()
                        ],
                    }
                    for base, entry in (m.get("ratio_to_baseline") or {}).items()
                ],
            }
        )
    comparisons = [
        {
            "mode": c["mode"],
            "reference": c["reference"],
            "metrics": [
                {"name": name, "text": _fmt_ratio(r), "real": bool(r and r.get("real"))}
                for name, r in (c.get("metrics") or {}).items()
            ],
        }
        for c in doc.get("comparisons", [])
    ]
    env = doc.get("environment") or {}
    return {
        "bench": doc,
        "rows": rows,
        "comparisons": comparisons,
        "env": env,
        "run": doc.get("run") or {},
        "nested_env": {k: v for k, v in env.items() if isinstance(v, dict)},
    }


def render_string(doc: dict) -> str:
    env = environment()
    charts = env.get_template("_bench_charts.html.j2").module
    css = PAGE_CSS + str(charts.styles())
    csp = "; ".join(
        [
            "default-src 'none'",
            f"style-src {csp_hash(css)}",
            "img-src 'none'",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )
    return env.get_template("bench.html.j2").render(context(doc), css=Markup(css), csp=csp)  # noqa: S704 - our own static CSS


def render(doc: dict, stream: IO[str]) -> None:
    """Write the page for a benchmark result document."""
    stream.write(render_string(doc))
