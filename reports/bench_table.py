"""A compact terminal table of a benchmark result (plain text, readable in CI logs)."""

from __future__ import annotations

from collections.abc import Callable
from typing import IO

from auditor.model.bench import BenchResult, Measurements, MetricRatios, Ratio

from .bench_format import gbit, number

# The ratio columns compare with this baseline (the header and the footer say so).
TABLE_BASELINE = "host-loopback"
HEADER = [
    "mode",
    "status",
    "Gbit/s [95% CI]",
    "reverse",
    "RTT p50/p99 us",
    "conn/s",
    "tput/loopback",
    "p50/loopback",
    "flags",
]


def _ratio(measured: Measurements, metric: Callable[[MetricRatios], Ratio | None]) -> str:
    to_baseline = next((c for c in measured.ratio_to_baseline if c.reference == TABLE_BASELINE), None)
    r = metric(to_baseline.metrics) if to_baseline else None
    if r is None:
        return "-"
    return f"{r.ratio:.2f}{'*' if r.real else ''}"


def rows(result: BenchResult) -> list[list[str]]:
    out = []
    for m in result.modes:
        measured = m.measured
        if measured is None:
            out.append([m.mode, m.status, m.skipped_reason or m.error or ""])
            continue
        t = measured.throughput_bps
        ci = f"[{gbit(t.ci_low)}-{gbit(t.ci_high)}]" if t.ci_low is not None else ""
        lat = measured.latency_us
        conn = measured.connections_per_s
        rev = measured.reverse_throughput_bps
        out.append(
            [
                m.mode,
                "ok",
                f"{gbit(t.median)} {ci}".strip(),
                gbit(rev.median if rev else None),
                f"{number(lat.p50 if lat else None)}/{number(lat.p99 if lat else None)}",
                number(conn.median if conn else None),
                _ratio(measured, lambda m: m.throughput_bps),
                _ratio(measured, lambda m: m.latency_p50_us),
                ",".join(measured.flags),
            ]
        )
    return out


def render_table(result: BenchResult, stream: IO[str]) -> None:
    """One line per mode; '*' marks a ratio whose interval excludes 1.0 (a real difference)."""
    table = [HEADER, *rows(result)]
    widths = [
        max(len(r[i]) for r in table if len(r) > i and len(r) == len(HEADER)) for i in range(len(HEADER))
    ]
    for r in table:
        if len(r) != len(HEADER):
            stream.write(f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]}\n")
        else:
            stream.write("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() + "\n")
    stream.write(
        f"ratios: median of per-repetition ratios to {TABLE_BASELINE}; * = 95% interval excludes 1.0\n"
    )
