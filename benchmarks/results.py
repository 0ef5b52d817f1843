"""The benchmark result document (schema_version 1.0): build it, and load it back."""

from __future__ import annotations

import json
import statistics as _stats
from collections.abc import Sequence

from auditor.model import inputs
from auditor.model.errors import InputError

from .plan import BASELINES, COMPARISONS, PlannedMode
from .runner import KINDS, Results, Sample
from .statistics import (
    MIN_PAIRS_FOR_CLAIM,
    Summary,
    cpu_bound,
    is_bimodal,
    paired_ratio,
    relative_width,
    summarize,
)

SCHEMA_VERSION = "1.0"
PROXY_CPU_THRESHOLD = 5.0  # % of a core: above this, the userland proxy carried the traffic
WIDE_INTERVAL = 0.25
RATIO_METRICS = {
    "throughput_bps": ("throughput", None),
    "reverse_throughput_bps": ("reverse", None),
    "latency_p50_us": ("latency", "p50"),
    "latency_p99_us": ("latency", "p99"),
    "connections_per_s": ("connections", None),
}


def values(samples: Sequence[Sample | None], detail: str | None = None) -> list[float | None]:
    """Per-round values (None where a round failed), optionally a detail such as 'p99'."""
    out: list[float | None] = []
    for s in samples:
        if s is None or s.value is None:
            out.append(None)
        elif detail:
            v = s.details.get(detail)
            out.append(float(v) if isinstance(v, int | float) else None)
        else:
            out.append(s.value)
    return out


def _present(vals: Sequence[float | None]) -> list[float]:
    return [v for v in vals if v is not None]


def _summary(vals: Sequence[float | None], seed: int) -> dict | None:
    s = summarize(_present(vals), seed)
    return s.as_dict() if s else None


def _median(vals: Sequence[float | None]) -> float | None:
    clean = _present(vals)
    return _stats.median(clean) if clean else None


def _cpu(samples: Sequence[Sample | None]) -> dict:
    parties = ("client", "server", "proxy")
    return {p: _median([s.cpu.get(p) if s else None for s in samples]) for p in parties}


PERCENTILES = ("p50", "p90", "p99", "p999")


def _latency(samples: Sequence[Sample | None]) -> dict | None:
    """Median over repetitions of each run's percentile (numbers only, as charts expect)."""
    if not _present(values(samples)):
        return None
    return {p: _median(values(samples, p)) for p in PERCENTILES}


def _latency_detail(samples: Sequence[Sample | None], seed: int) -> dict | None:
    """Intervals, per-repetition values and observation counts behind ``latency_us``."""
    if not _present(values(samples)):
        return None
    return {
        "kind": "full round trip, 64-byte messages, TCP (sockperf ping-pong)",
        "ci": {p: _summary_ci(values(samples, p), seed) for p in PERCENTILES},
        "samples": {p: _present(values(samples, p)) for p in PERCENTILES},
        "observations": sum(
            int(s.details.get("observations") or 0) for s in samples if s and s.value is not None
        ),
    }


def _summary_ci(vals: Sequence[float | None], seed: int) -> list[float | None]:
    s = summarize(_present(vals), seed)
    return [s.ci_low, s.ci_high] if s else [None, None]


def _ratios(mine: dict[str, list[Sample | None]], other: dict[str, list[Sample | None]], seed: int) -> dict:
    """Paired ratios of every metric; the throughput ratio is also the entry's headline."""
    metrics = {}
    for name, (kind, detail) in RATIO_METRICS.items():
        r = paired_ratio(values(mine[kind], detail), values(other[kind], detail), seed)
        metrics[name] = r.as_dict() if r else None
    headline = metrics["throughput_bps"] or {}
    return {"metric": "throughput_bps", **headline, "metrics": metrics}


def _flags(
    data: dict[str, list[Sample | None]], summary: Summary | None, cores: int, planned_rounds: int
) -> list[str]:
    flags = []
    cpu = _cpu(data["throughput"])
    parties = [cpu["client"], cpu["server"], cpu["proxy"]]
    total = sum(p for p in parties if p is not None) if any(p is not None for p in parties) else None
    if cpu_bound(parties, total, cores):
        flags.append("cpu-bound")
    if any(is_bimodal(_present(values(data[k]))) for k in KINDS):
        flags.append("bimodal")
    width = relative_width(summary)
    if width is not None and width > WIDE_INTERVAL:
        flags.append("wide-interval")
    if any(s is None or s.value is None for k in KINDS for s in data[k][:planned_rounds]):
        flags.append("partial")
    if summary is not None and len(summary.samples) < MIN_PAIRS_FOR_CLAIM:
        flags.append("few-samples")
    return flags


def _path(mode: str, cpu: dict, userland_proxy: bool | None) -> str | None:
    if not mode.startswith("published-"):
        return None
    proxy = cpu.get("proxy")
    if proxy is not None and proxy >= PROXY_CPU_THRESHOLD:
        return "userland proxy (docker-proxy)"
    if proxy is None and mode == "published-proxy" and userland_proxy is False:
        return "kernel DNAT (userland proxy disabled)"
    return "kernel DNAT"


def _errors(data: dict[str, list[Sample | None]]) -> list[str]:
    seen: list[str] = []
    for kind in (*KINDS, "udp"):
        for s in data.get(kind, []):
            if s is not None and s.error and s.error not in seen:
                seen.append(f"{kind}: {s.error}")
    return seen[:5]


def build(
    planned: list[PlannedMode],
    results: Results,
    failures: dict[str, str],
    environment: dict,
    run: dict,
    seed: int = 0,
    udp: dict | None = None,
) -> dict:
    """The whole result document."""
    cores = int(environment.get("cpus") or 1)
    rounds = int(run.get("repeat") or 1)
    userland = (environment.get("userland_proxy") or {}).get("enabled")
    modes = []
    for pm in planned:
        entry: dict = {
            "mode": pm.name,
            "description": pm.description,
            "status": "ok",
            "skipped_reason": None,
            "error": None,
        }
        data = results.get(pm.name)
        if not pm.runnable:
            entry.update(status="skipped", skipped_reason=pm.skipped_reason)
        elif pm.name in failures:
            entry.update(status="failed", error=failures[pm.name])
        elif data is None or not _present(values(data["throughput"])):
            errs = _errors(data) if data else []
            entry.update(status="failed", error=errs[0] if errs else "no measurement succeeded")
        if entry["status"] != "ok" or data is None:
            modes.append(entry)
            continue
        forward = summarize(_present(values(data["throughput"])), seed)
        cpu = {kind: _cpu(data[kind]) for kind in KINDS}
        entry.update(
            {
                "path": _path(pm.name, cpu["throughput"], userland),
                "throughput_bps": forward.as_dict() if forward else None,
                "reverse_throughput_bps": _summary(values(data["reverse"]), seed),
                "smoothed_rtt_under_load_us": _summary(
                    values(data["throughput"], "smoothed_rtt_under_load_us"), seed
                ),
                "retransmits": _median(values(data["throughput"], "retransmits")),
                "congestion_control": next(
                    (
                        s.details.get("congestion")
                        for s in data["throughput"]
                        if s and s.details.get("congestion")
                    ),
                    None,
                ),
                "latency_us": _latency(data["latency"]),
                "latency_detail": _latency_detail(data["latency"], seed),
                "connections_per_s": _summary(values(data["connections"]), seed),
                "cpu": cpu,
                "flags": _flags(data, forward, cores, rounds),
                "errors": _errors(data),
            }
        )
        if udp is not None:
            entry["udp"] = {
                **udp,
                "lost_percent": _summary(values(data["udp"]), seed),
                "jitter_ms": _summary(values(data["udp"], "jitter_ms"), seed),
            }
        entry["ratio_to_baseline"] = {
            base: _ratios(data, results[base], seed)
            for base in BASELINES
            if base != pm.name and base in results and _present(values(results[base]["throughput"]))
        }
        modes.append(entry)
    ok = {m["mode"] for m in modes if m["status"] == "ok"}
    comparisons = [
        {"mode": a, "reference": b, **_ratios(results[a], results[b], seed)}
        for a, b in COMPARISONS
        if a in ok and b in ok
    ]
    proxy_mode = next((m for m in modes if m["mode"] == "published-proxy" and m["status"] == "ok"), None)
    env = dict(environment)
    env["userland_proxy"] = {
        **(environment.get("userland_proxy") or {}),
        "path_taken": proxy_mode["path"] if proxy_mode else None,
    }
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "auditor-bench",
        "run": run,
        "environment": env,
        "modes": modes,
        "comparisons": comparisons,
    }


def dumps(doc: dict) -> str:
    return json.dumps(doc, indent=2, sort_keys=False) + "\n"


def load(path: str) -> dict:
    """Read a result file written by ``auditor bench``; anything else is an input error."""
    return validate(inputs.load_json(path, "benchmark result"), path)


def validate(doc: object, path: str | None = None) -> dict:
    if not isinstance(doc, dict) or doc.get("kind") != "auditor-bench":
        raise InputError("not an `auditor bench` result (missing kind: auditor-bench)", path)
    version = str(doc.get("schema_version", ""))
    if version.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
        raise InputError(
            f"unsupported benchmark schema_version {version!r} (expected {SCHEMA_VERSION})", path
        )
    modes = doc.get("modes")
    if not isinstance(modes, list) or not all(
        isinstance(m, dict) and isinstance(m.get("mode"), str) for m in modes
    ):
        raise InputError("benchmark result has no valid `modes` list", path)
    return doc


def mode_entry(doc: dict, name: str) -> dict | None:
    """The entry of one measured (status ok) mode, or None."""
    for m in doc.get("modes", []):
        if m.get("mode") == name and m.get("status") == "ok":
            return m
    return None
