"""A compact terminal table of a result document (plain text, readable in CI logs)."""

from __future__ import annotations

from typing import IO


def gbits(bps: float | None) -> str:
    return "-" if bps is None else f"{bps / 1e9:.2f}"


def _num(value: float | None, fmt: str = "{:.0f}") -> str:
    return "-" if value is None else fmt.format(value)


def _ratio(mode: dict, metric: str) -> str:
    r = ((mode.get("ratio_to_baseline") or {}).get("host-loopback") or {}).get("metrics", {}).get(metric)
    if not r:
        return "-"
    mark = "*" if r["real"] else ""
    return f"{r['ratio']:.2f}{mark}"


def rows(doc: dict) -> list[list[str]]:
    out = []
    for m in doc["modes"]:
        if m["status"] != "ok":
            out.append([m["mode"], m["status"], m.get("skipped_reason") or m.get("error") or ""])
            continue
        t = m.get("throughput_bps") or {}
        ci = f"[{gbits(t.get('ci_low'))}-{gbits(t.get('ci_high'))}]" if t.get("ci_low") is not None else ""
        lat = m.get("latency_us") or {}
        conn = (m.get("connections_per_s") or {}).get("median")
        out.append(
            [
                m["mode"],
                "ok",
                f"{gbits(t.get('median'))} {ci}".strip(),
                gbits((m.get("reverse_throughput_bps") or {}).get("median")),
                f"{_num(lat.get('p50'))}/{_num(lat.get('p99'))}",
                _num(conn),
                _ratio(m, "throughput_bps"),
                _ratio(m, "latency_p50_us"),
                ",".join(m.get("flags") or []),
            ]
        )
    return out


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


def print_summary(doc: dict, stream: IO[str]) -> None:
    """One line per mode; '*' marks a ratio whose interval excludes 1.0 (a real difference)."""
    table = [HEADER, *rows(doc)]
    widths = [
        max(len(r[i]) for r in table if len(r) > i and len(r) == len(HEADER)) for i in range(len(HEADER))
    ]
    for r in table:
        if len(r) != len(HEADER):
            stream.write(f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]}\n")
        else:
            stream.write("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() + "\n")
    stream.write("ratios: median of per-repetition ratios to host-loopback; * = 95% interval excludes 1.0\n")
