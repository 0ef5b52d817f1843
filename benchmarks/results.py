"""From per-round samples to the result records: summaries, ratios, flags, paths, comparisons.

``build`` is the one place a ``BenchResult`` is made from measurements; what each mode is
compared with and how its path is named comes from its ``Mode`` record.
"""

from __future__ import annotations

import statistics as _stats
from collections.abc import Mapping, Sequence
from dataclasses import replace

from auditor.model.bench import (
    PERCENTILES,
    BenchResult,
    Comparison,
    CpuByTest,
    CpuUse,
    Environment,
    LatencyDetail,
    Measurements,
    MetricRatios,
    ModeResult,
    Percentiles,
    PercentileSpread,
    RunRecord,
    Summary,
    UdpResult,
    UserlandProxy,
)

from .plan import PlannedMode
from .runner import KINDS, Results, Sample
from .settings import Options
from .statistics import (
    MIN_PAIRS_FOR_CLAIM,
    cpu_bound,
    is_bimodal,
    paired_ratio,
    relative_width,
    summarize,
)

WIDE_INTERVAL = 0.25
LATENCY_KIND = "full round trip, 64-byte messages, TCP (sockperf ping-pong)"
# ratio metric -> (sample kind, detail of the sample or None for its value)
RATIO_METRICS: dict[str, tuple[str, str | None]] = {
    "throughput_bps": ("throughput", None),
    "reverse_throughput_bps": ("reverse", None),
    "latency_p50_us": ("latency", "p50"),
    "latency_p99_us": ("latency", "p99"),
    "connections_per_s": ("connections", None),
}

Samples = Mapping[str, Sequence[Sample | None]]


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


def _summary(vals: Sequence[float | None], seed: int) -> Summary | None:
    return summarize(_present(vals), seed)


def _median(vals: Sequence[float | None]) -> float | None:
    clean = _present(vals)
    return _stats.median(clean) if clean else None


def _cpu(samples: Sequence[Sample | None]) -> CpuUse:
    return CpuUse(
        *(_median([s.cpu.get(p) if s else None for s in samples]) for p in ("client", "server", "proxy"))
    )


def _latency(samples: Sequence[Sample | None]) -> Percentiles | None:
    """Median over repetitions of each run's percentile (numbers only, as charts expect)."""
    if not _present(values(samples)):
        return None
    return Percentiles(*(_median(values(samples, p)) for p in PERCENTILES))


def _spread(vals: Sequence[float | None], seed: int) -> PercentileSpread:
    s = summarize(_present(vals), seed)
    return PercentileSpread(s.ci_low if s else None, s.ci_high if s else None, tuple(_present(vals)))


def _latency_detail(samples: Sequence[Sample | None], seed: int) -> LatencyDetail | None:
    """Intervals, per-repetition values and observation counts behind ``latency_us``."""
    if not _present(values(samples)):
        return None
    p50, p90, p99, p999 = (_spread(values(samples, p), seed) for p in PERCENTILES)
    return LatencyDetail(
        LATENCY_KIND,
        p50,
        p90,
        p99,
        p999,
        observations=sum(
            int(s.details.get("observations") or 0) for s in samples if s and s.value is not None
        ),
    )


def _ratios(mine: Samples, other: Samples, seed: int) -> MetricRatios:
    """Paired ratios of every metric (throughput is the headline)."""
    return MetricRatios(
        **{
            name: paired_ratio(values(mine[kind], detail), values(other[kind], detail), seed)
            for name, (kind, detail) in RATIO_METRICS.items()
        }
    )


def _flags(
    data: Samples, cpu: CpuUse, summary: Summary | None, cores: int, planned_rounds: int
) -> tuple[str, ...]:
    flags = []
    parties = [cpu.client, cpu.server, cpu.proxy]
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
    return tuple(flags)


def _errors(data: Samples) -> list[str]:
    """The first five distinct tool errors, each named by its test."""
    seen: list[str] = []
    for kind in (*KINDS, "udp"):
        for s in data.get(kind, []):
            line = f"{kind}: {s.error}" if s is not None and s.error else None
            if line and line not in seen:
                seen.append(line)
    return seen[:5]


def _measure(
    planned: PlannedMode,
    data: Samples,
    forward: Summary,
    results: Results,
    baselines: Sequence[str],
    environment: Environment,
    opts: Options,
) -> Measurements:
    seed = opts.seed
    cpu = CpuByTest(*(_cpu(data[kind]) for kind in KINDS))
    userland = environment.userland_proxy.enabled if environment.userland_proxy else None
    udp = None
    if opts.udp:
        udp = UdpResult(
            opts.udp_rate,
            opts.udp_size,
            _summary(values(data["udp"]), seed),
            _summary(values(data["udp"], "jitter_ms"), seed),
        )
    return Measurements(
        path=planned.mode.path(cpu.throughput, userland),
        throughput_bps=forward,
        reverse_throughput_bps=_summary(values(data["reverse"]), seed),
        smoothed_rtt_under_load_us=_summary(values(data["throughput"], "smoothed_rtt_under_load_us"), seed),
        retransmits=_median(values(data["throughput"], "retransmits")),
        congestion_control=next(
            (s.details["congestion"] for s in data["throughput"] if s and s.details.get("congestion")), None
        ),
        latency_us=_latency(data["latency"]),
        latency_detail=_latency_detail(data["latency"], seed),
        connections_per_s=_summary(values(data["connections"]), seed),
        cpu=cpu,
        flags=_flags(data, cpu.throughput, forward, environment.cpus or 1, opts.repeat),
        errors=tuple(_errors(data)),
        udp=udp,
        ratio_to_baseline=tuple(
            Comparison(planned.name, base, _ratios(data, results[base], seed))
            for base in baselines
            if base != planned.name and base in results and _present(values(results[base]["throughput"]))
        ),
    )


def _mode_result(
    planned: PlannedMode,
    results: Results,
    failures: Mapping[str, str],
    baselines: Sequence[str],
    environment: Environment,
    opts: Options,
) -> ModeResult:
    name, description = planned.name, planned.description
    data = results.get(name)
    if not planned.runnable:
        return ModeResult(name, description, skipped_reason=planned.skipped_reason)
    if name in failures:
        return ModeResult(name, description, error=failures[name])
    forward = summarize(_present(values(data["throughput"])), opts.seed) if data is not None else None
    if data is None or forward is None:
        errs = _errors(data) if data else []
        return ModeResult(name, description, error=errs[0] if errs else "no measurement succeeded")
    measured = _measure(planned, data, forward, results, baselines, environment, opts)
    return ModeResult(name, description, measured=measured)


def build(
    planned: Sequence[PlannedMode],
    results: Results,
    failures: Mapping[str, str],
    environment: Environment,
    run: RunRecord,
    opts: Options,
) -> BenchResult:
    """The whole result: every planned mode, its comparisons, and the path the proxy took."""
    baselines = [p.name for p in planned if p.mode.baseline]
    modes = tuple(_mode_result(p, results, failures, baselines, environment, opts) for p in planned)
    ok = {m.mode for m in modes if m.measured is not None}
    pairs = sorted(
        ((relative.listed, p.name, relative.reference) for p in planned for relative in p.mode.relatives),
        key=lambda pair: pair[0],
    )
    comparisons = tuple(
        Comparison(a, b, _ratios(results[a], results[b], opts.seed))
        for _, a, b in pairs
        if a in ok and b in ok
    )
    revealing = next(
        (m.measured for p, m in zip(planned, modes, strict=True) if p.mode.reveals_proxy and m.measured), None
    )
    proxy = environment.userland_proxy or UserlandProxy(None, None)
    collected = environment.collected + (
        () if "userland_proxy" in environment.collected else ("userland_proxy",)
    )
    environment = replace(
        environment,
        userland_proxy=replace(proxy, path_taken=revealing.path if revealing else None),
        collected=collected,
    )
    return BenchResult(run=run, environment=environment, modes=modes, comparisons=comparisons)
