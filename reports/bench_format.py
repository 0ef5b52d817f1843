"""How benchmark numbers are written, the same in the terminal table and the HTML page."""

from __future__ import annotations

from auditor.model.bench import Ratio


def number(value: float | None, pattern: str = "{:.0f}") -> str:
    """``pattern`` filled with the value, or "-" for a value not measured."""
    return "-" if value is None else pattern.format(value)


def gbit(bps: float | None, pattern: str = "{:.2f}") -> str:
    """Bits per second as Gbit/s."""
    return number(None if bps is None else bps / 1e9, pattern)


def ratio(r: Ratio | None) -> str:
    """``0.70× (0.68–0.72)``: the paired ratio and its interval where there is one."""
    if r is None:
        return "-"
    text = f"{r.ratio:.2f}×"
    if r.ci_low is not None and r.ci_high is not None:
        text += f" ({r.ci_low:.2f}–{r.ci_high:.2f})"
    return text
