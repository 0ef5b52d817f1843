"""A benchmark result (``auditor bench``) as frozen records, and its JSON (schema_version 1.0).

The benchmark's statistics build these records; reporters and ``auditor scan --bench`` read them.
The JSON document is a pure serialisation: ``to_json`` writes it, ``from_json`` reads it back
and checks every field, naming the first one that is wrong in one ``InputError``. Fields a
reader of this version does not know are ignored (schema 1.x only ever adds fields).

``None`` means unknown or not measured. Numbers keep the type they were read with, so a
document read and written again is the same text.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal, TypeVar

from auditor.model.errors import InputError
from auditor.model.inputs import load_json

SCHEMA_VERSION = "1.0"
KIND = "auditor-bench"

Status = Literal["ok", "skipped", "failed"]
Scalar = str | int | float | bool | None
JsonObject = dict[str, Any]
T = TypeVar("T")


# -- records -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Summary:
    """Median of the repetitions and its bootstrap confidence interval (None with fewer than 3)."""

    median: float
    ci_low: float | None
    ci_high: float | None
    samples: tuple[float, ...]


@dataclass(frozen=True)
class Ratio:
    """Median of per-repetition ratios ``mode / reference`` with its interval.

    ``real`` says the statistics called the difference real (enough pairs, interval excludes 1.0).
    """

    ratio: float
    ci_low: float | None
    ci_high: float | None
    pairs: int
    real: bool


@dataclass(frozen=True)
class MetricRatios:
    """One paired ratio per metric (None where no pair could be formed)."""

    throughput_bps: Ratio | None = None
    reverse_throughput_bps: Ratio | None = None
    latency_p50_us: Ratio | None = None
    latency_p99_us: Ratio | None = None
    connections_per_s: Ratio | None = None

    def items(self) -> tuple[tuple[str, Ratio | None], ...]:
        """(metric, ratio) in the order every report lists them."""
        return tuple((f.name, getattr(self, f.name)) for f in fields(self))


HEADLINE_METRIC = "throughput_bps"


@dataclass(frozen=True)
class Comparison:
    """``mode`` measured against ``reference``, paired by repetition; throughput is the headline."""

    mode: str
    reference: str
    metrics: MetricRatios

    @property
    def headline(self) -> Ratio | None:
        return self.metrics.throughput_bps


@dataclass(frozen=True)
class Percentiles:
    """Round-trip latency percentiles in microseconds: the median over repetitions of each."""

    p50: float | None = None
    p90: float | None = None
    p99: float | None = None
    p999: float | None = None


PERCENTILES = ("p50", "p90", "p99", "p999")


@dataclass(frozen=True)
class PercentileSpread:
    """One latency percentile over the repetitions: its interval and the per-repetition values."""

    ci_low: float | None
    ci_high: float | None
    samples: tuple[float, ...]


@dataclass(frozen=True)
class LatencyDetail:
    """What stands behind ``Measurements.latency_us``: the test, intervals, sample counts."""

    kind: str
    p50: PercentileSpread
    p90: PercentileSpread
    p99: PercentileSpread
    p999: PercentileSpread
    observations: int


@dataclass(frozen=True)
class CpuUse:
    """Median CPU use of each party during a test, in percent of one core (None: not seen)."""

    client: float | None = None
    server: float | None = None
    proxy: float | None = None


@dataclass(frozen=True)
class CpuByTest:
    throughput: CpuUse = CpuUse()
    reverse: CpuUse = CpuUse()
    latency: CpuUse = CpuUse()
    connections: CpuUse = CpuUse()


@dataclass(frozen=True)
class UdpResult:
    """Loss and jitter at a fixed UDP rate and datagram size (``--udp``)."""

    rate: str
    datagram_bytes: int
    lost_percent: Summary | None
    jitter_ms: Summary | None


@dataclass(frozen=True)
class Measurements:
    """Everything measured for one mode that ran; ``ratio_to_baseline`` has one entry per baseline."""

    throughput_bps: Summary
    path: str | None = None
    reverse_throughput_bps: Summary | None = None
    smoothed_rtt_under_load_us: Summary | None = None
    retransmits: float | None = None
    congestion_control: str | None = None
    latency_us: Percentiles | None = None
    latency_detail: LatencyDetail | None = None
    connections_per_s: Summary | None = None
    cpu: CpuByTest = CpuByTest()
    flags: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    udp: UdpResult | None = None
    ratio_to_baseline: tuple[Comparison, ...] = ()


@dataclass(frozen=True)
class ModeResult:
    """One planned mode: skipped (with the reason), failed (with the error) or measured."""

    mode: str
    description: str
    skipped_reason: str | None = None
    error: str | None = None
    measured: Measurements | None = None

    def __post_init__(self) -> None:
        given = [self.skipped_reason is not None, self.error is not None, self.measured is not None]
        if given.count(True) != 1:
            raise ValueError(f"mode {self.mode}: exactly one of skipped_reason, error, measured")

    @property
    def status(self) -> Status:
        if self.measured is not None:
            return "ok"
        return "skipped" if self.skipped_reason is not None else "failed"


@dataclass(frozen=True)
class ToolInfo:
    name: str
    version: str


@dataclass(frozen=True)
class RunRecord:
    """How the run was made; a field the document does not hold is None (and stays out of it)."""

    id: str | None = None
    tool: ToolInfo | None = None
    started_at: str | None = None
    duration_s: float | None = None
    quick: bool | None = None
    repeat: int | None = None
    warmup_rounds: int | None = None
    test_duration_s: float | None = None
    omit_s: int | None = None
    seed: int | None = None
    order: tuple[str, ...] | None = None
    statistics: str | None = None


@dataclass(frozen=True)
class UserlandProxy:
    """The configured ``userland-proxy`` setting, where it was read, and the path traffic took."""

    enabled: bool | None
    source: str | None
    path_taken: str | None = None


ENVIRONMENT_FACTS = (
    "hostname",
    "kernel",
    "os",
    "cpus",
    "cpu_model",
    "load_average",
    "engine_version",
    "engine_api_version",
    "cgroup_version",
    "swarm",
    "userland_proxy",
    "congestion_control",
    "mtu",
    "tools",
)


@dataclass(frozen=True)
class Environment:
    """What the numbers depend on: kernel, engine, userland-proxy setting, MTUs, tool versions.

    ``collected`` names the facts this record holds, in the order they were collected: a fact
    not collected is left out of the JSON, one collected but unknown is null.
    """

    hostname: str | None = None
    kernel: str | None = None
    os: str | None = None
    cpus: int | None = None
    cpu_model: str | None = None
    load_average: tuple[float, ...] | None = None
    engine_version: str | None = None
    engine_api_version: str | None = None
    cgroup_version: str | None = None
    swarm: str | None = None
    userland_proxy: UserlandProxy | None = None
    congestion_control: str | None = None
    mtu: tuple[tuple[str, int | None], ...] = ()
    tools: tuple[tuple[str, str | None], ...] = ()
    collected: tuple[str, ...] = ENVIRONMENT_FACTS

    def __post_init__(self) -> None:
        unknown = [name for name in self.collected if name not in ENVIRONMENT_FACTS]
        if unknown:
            raise ValueError(f"unknown environment facts {unknown}")

    def facts(self) -> tuple[tuple[str, Scalar], ...]:
        """The single-valued facts collected, in order (as reports list them)."""
        out: list[tuple[str, Scalar]] = []
        for name in self.collected:
            value = getattr(self, name)
            if value is None or isinstance(value, str | int | float | bool):
                out.append((name, value))
        return tuple(out)

    def groups(self) -> tuple[tuple[str, tuple[tuple[str, Scalar], ...]], ...]:
        """The facts that hold several values (userland proxy, MTUs, tools), in order."""
        out: list[tuple[str, tuple[tuple[str, Scalar], ...]]] = []
        for name in self.collected:
            if name == "userland_proxy" and self.userland_proxy is not None:
                up = self.userland_proxy
                out.append(
                    (name, (("enabled", up.enabled), ("source", up.source), ("path_taken", up.path_taken)))
                )
            elif name in ("mtu", "tools"):
                out.append((name, getattr(self, name)))
        return tuple(out)


@dataclass(frozen=True)
class BenchResult:
    """A whole benchmark run: how it was made, where, every planned mode, and the comparisons."""

    run: RunRecord
    environment: Environment
    modes: tuple[ModeResult, ...]
    comparisons: tuple[Comparison, ...] = ()

    def mode(self, name: str) -> ModeResult | None:
        return next((m for m in self.modes if m.mode == name), None)

    def measured(self, name: str) -> Measurements | None:
        """The measurements of one mode that ran, or None (not planned, skipped or failed)."""
        found = self.mode(name)
        return found.measured if found is not None else None

    def comparison(self, mode: str, reference: str) -> Comparison | None:
        return next((c for c in self.comparisons if c.mode == mode and c.reference == reference), None)


# -- JSON: writing -----------------------------------------------------------------------------
def _summary_json(s: Summary | None) -> JsonObject | None:
    if s is None:
        return None
    return {"median": s.median, "ci_low": s.ci_low, "ci_high": s.ci_high, "samples": list(s.samples)}


def _ratio_json(r: Ratio | None) -> JsonObject | None:
    if r is None:
        return None
    return {"ratio": r.ratio, "ci_low": r.ci_low, "ci_high": r.ci_high, "pairs": r.pairs, "real": r.real}


def _ratios_json(metrics: MetricRatios) -> JsonObject:
    """The headline ratio (throughput) flattened in, then every metric."""
    return {
        "metric": HEADLINE_METRIC,
        **(_ratio_json(metrics.throughput_bps) or {}),
        "metrics": {name: _ratio_json(r) for name, r in metrics.items()},
    }


def _cpu_json(c: CpuUse) -> JsonObject:
    return {"client": c.client, "server": c.server, "proxy": c.proxy}


def _latency_detail_json(d: LatencyDetail | None) -> JsonObject | None:
    if d is None:
        return None
    spreads: list[tuple[str, PercentileSpread]] = [(p, getattr(d, p)) for p in PERCENTILES]
    return {
        "kind": d.kind,
        "ci": {p: [s.ci_low, s.ci_high] for p, s in spreads},
        "samples": {p: list(s.samples) for p, s in spreads},
        "observations": d.observations,
    }


def _measurements_json(m: Measurements) -> JsonObject:
    lat = m.latency_us
    out: JsonObject = {
        "path": m.path,
        "throughput_bps": _summary_json(m.throughput_bps),
        "reverse_throughput_bps": _summary_json(m.reverse_throughput_bps),
        "smoothed_rtt_under_load_us": _summary_json(m.smoothed_rtt_under_load_us),
        "retransmits": m.retransmits,
        "congestion_control": m.congestion_control,
        "latency_us": None if lat is None else {p: getattr(lat, p) for p in PERCENTILES},
        "latency_detail": _latency_detail_json(m.latency_detail),
        "connections_per_s": _summary_json(m.connections_per_s),
        "cpu": {f.name: _cpu_json(getattr(m.cpu, f.name)) for f in fields(m.cpu)},
        "flags": list(m.flags),
        "errors": list(m.errors),
    }
    if m.udp is not None:
        out["udp"] = {
            "rate": m.udp.rate,
            "datagram_bytes": m.udp.datagram_bytes,
            "lost_percent": _summary_json(m.udp.lost_percent),
            "jitter_ms": _summary_json(m.udp.jitter_ms),
        }
    out["ratio_to_baseline"] = {c.reference: _ratios_json(c.metrics) for c in m.ratio_to_baseline}
    return out


def _mode_json(m: ModeResult) -> JsonObject:
    out: JsonObject = {
        "mode": m.mode,
        "description": m.description,
        "status": m.status,
        "skipped_reason": m.skipped_reason,
        "error": m.error,
    }
    if m.measured is not None:
        out.update(_measurements_json(m.measured))
    return out


def _run_json(r: RunRecord) -> JsonObject:
    out: JsonObject = {}
    for f in fields(r):
        value = getattr(r, f.name)
        if value is None:
            continue
        if isinstance(value, ToolInfo):
            value = {"name": value.name, "version": value.version}
        elif isinstance(value, tuple):
            value = list(value)
        out[f.name] = value
    return out


def _environment_json(e: Environment) -> JsonObject:
    out: JsonObject = {}
    for name in e.collected:
        value = getattr(e, name)
        if isinstance(value, UserlandProxy):
            value = {"enabled": value.enabled, "source": value.source, "path_taken": value.path_taken}
        elif name in ("mtu", "tools"):
            value = dict(value)
        elif isinstance(value, tuple):
            value = list(value)
        out[name] = value
    return out


def to_json(result: BenchResult) -> JsonObject:
    """The result document (plain JSON values) that ``auditor bench -o FILE.json`` writes."""
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": KIND,
        "run": _run_json(result.run),
        "environment": _environment_json(result.environment),
        "modes": [_mode_json(m) for m in result.modes],
        "comparisons": [
            {"mode": c.mode, "reference": c.reference, **_ratios_json(c.metrics)} for c in result.comparisons
        ],
    }


# -- JSON: reading -----------------------------------------------------------------------------
class _Fields:
    """Typed access to one document that names the offending field on error."""

    def __init__(self, path: str | None):
        self.path = path

    def fail(self, where: str, problem: str) -> InputError:
        return InputError(f"not a valid benchmark result: {where}: {problem}", self.path)

    def obj(self, value: object, where: str) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "expected an object")
        return value

    def opt_obj(self, value: object, where: str) -> Mapping[str, Any] | None:
        return None if value is None else self.obj(value, where)

    def lst(self, value: object, where: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(where, "expected a list")
        return value

    def text(self, value: object, where: str) -> str:
        if not isinstance(value, str):
            raise self.fail(where, "expected a string")
        return value

    def opt_text(self, value: object, where: str) -> str | None:
        return None if value is None else self.text(value, where)

    def number(self, value: object, where: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(where, "expected a number")
        return value

    def opt_number(self, value: object, where: str) -> float | None:
        return None if value is None else self.number(value, where)

    def integer(self, value: object, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(where, "expected an integer")
        return value

    def opt_integer(self, value: object, where: str) -> int | None:
        return None if value is None else self.integer(value, where)

    def opt_boolean(self, value: object, where: str) -> bool | None:
        if value is not None and not isinstance(value, bool):
            raise self.fail(where, "expected true or false")
        return value

    def numbers(self, value: object, where: str) -> tuple[float, ...]:
        return tuple(self.number(v, f"{where}[{i}]") for i, v in enumerate(self.lst(value, where)))

    def texts(self, value: object, where: str) -> tuple[str, ...]:
        return tuple(self.text(v, f"{where}[{i}]") for i, v in enumerate(self.lst(value, where)))

    def pairs(self, value: object, where: str, read: Callable[[object, str], T]) -> tuple[tuple[str, T], ...]:
        return tuple((k, read(v, f"{where}.{k}")) for k, v in self.obj(value, where).items())


def _summary(f: _Fields, value: object, where: str) -> Summary | None:
    d = f.opt_obj(value, where)
    if d is None:
        return None
    return Summary(
        median=f.number(d.get("median"), f"{where}.median"),
        ci_low=f.opt_number(d.get("ci_low"), f"{where}.ci_low"),
        ci_high=f.opt_number(d.get("ci_high"), f"{where}.ci_high"),
        samples=f.numbers(d.get("samples", []), f"{where}.samples"),
    )


def _ratio(f: _Fields, value: object, where: str) -> Ratio | None:
    d = f.opt_obj(value, where)
    if d is None:
        return None
    real = f.opt_boolean(d.get("real"), f"{where}.real")
    return Ratio(
        ratio=f.number(d.get("ratio"), f"{where}.ratio"),
        ci_low=f.opt_number(d.get("ci_low"), f"{where}.ci_low"),
        ci_high=f.opt_number(d.get("ci_high"), f"{where}.ci_high"),
        pairs=f.integer(d.get("pairs"), f"{where}.pairs"),
        real=bool(real),
    )


def _metric_ratios(f: _Fields, value: object, where: str) -> MetricRatios:
    """The ``metrics`` of a comparison (the flattened headline is derived, so not read)."""
    metrics = f.obj(f.obj(value, where).get("metrics", {}), f"{where}.metrics")
    return MetricRatios(
        **{m.name: _ratio(f, metrics.get(m.name), f"{where}.metrics.{m.name}") for m in fields(MetricRatios)}
    )


def _cpu(f: _Fields, value: object, where: str) -> CpuUse:
    d = f.opt_obj(value, where) or {}
    return CpuUse(*(f.opt_number(d.get(p), f"{where}.{p}") for p in ("client", "server", "proxy")))


def _latency(f: _Fields, value: object, where: str) -> Percentiles | None:
    d = f.opt_obj(value, where)
    if d is None:
        return None
    return Percentiles(*(f.opt_number(d.get(p), f"{where}.{p}") for p in PERCENTILES))


def _latency_detail(f: _Fields, value: object, where: str) -> LatencyDetail | None:
    d = f.opt_obj(value, where)
    if d is None:
        return None
    ci = f.obj(d.get("ci", {}), f"{where}.ci")
    samples = f.obj(d.get("samples", {}), f"{where}.samples")
    spreads: dict[str, PercentileSpread] = {}
    for p in PERCENTILES:
        interval = f.lst(ci.get(p, [None, None]), f"{where}.ci.{p}")
        if len(interval) != 2:
            raise f.fail(f"{where}.ci.{p}", "expected [low, high]")
        spreads[p] = PercentileSpread(
            ci_low=f.opt_number(interval[0], f"{where}.ci.{p}[0]"),
            ci_high=f.opt_number(interval[1], f"{where}.ci.{p}[1]"),
            samples=f.numbers(samples.get(p, []), f"{where}.samples.{p}"),
        )
    return LatencyDetail(
        kind=f.text(d.get("kind"), f"{where}.kind"),
        p50=spreads["p50"],
        p90=spreads["p90"],
        p99=spreads["p99"],
        p999=spreads["p999"],
        observations=f.integer(d.get("observations", 0), f"{where}.observations"),
    )


def _udp(f: _Fields, value: object, where: str) -> UdpResult | None:
    d = f.opt_obj(value, where)
    if d is None:
        return None
    return UdpResult(
        rate=f.text(d.get("rate"), f"{where}.rate"),
        datagram_bytes=f.integer(d.get("datagram_bytes"), f"{where}.datagram_bytes"),
        lost_percent=_summary(f, d.get("lost_percent"), f"{where}.lost_percent"),
        jitter_ms=_summary(f, d.get("jitter_ms"), f"{where}.jitter_ms"),
    )


def _measurements(f: _Fields, d: Mapping[str, Any], name: str, where: str) -> Measurements:
    throughput = _summary(f, d.get("throughput_bps"), f"{where}.throughput_bps")
    if throughput is None:
        raise f.fail(f"{where}.throughput_bps", "missing (a measured mode has a throughput)")
    cpu = f.opt_obj(d.get("cpu"), f"{where}.cpu") or {}
    baselines = f.obj(d.get("ratio_to_baseline", {}), f"{where}.ratio_to_baseline")
    return Measurements(
        path=f.opt_text(d.get("path"), f"{where}.path"),
        throughput_bps=throughput,
        reverse_throughput_bps=_summary(
            f, d.get("reverse_throughput_bps"), f"{where}.reverse_throughput_bps"
        ),
        smoothed_rtt_under_load_us=_summary(
            f, d.get("smoothed_rtt_under_load_us"), f"{where}.smoothed_rtt_under_load_us"
        ),
        retransmits=f.opt_number(d.get("retransmits"), f"{where}.retransmits"),
        congestion_control=f.opt_text(d.get("congestion_control"), f"{where}.congestion_control"),
        latency_us=_latency(f, d.get("latency_us"), f"{where}.latency_us"),
        latency_detail=_latency_detail(f, d.get("latency_detail"), f"{where}.latency_detail"),
        connections_per_s=_summary(f, d.get("connections_per_s"), f"{where}.connections_per_s"),
        cpu=CpuByTest(
            *(_cpu(f, cpu.get(t.name), f"{where}.cpu.{t.name}") for t in fields(CpuByTest)),
        ),
        flags=f.texts(d.get("flags", []), f"{where}.flags"),
        errors=f.texts(d.get("errors", []), f"{where}.errors"),
        udp=_udp(f, d.get("udp"), f"{where}.udp"),
        ratio_to_baseline=tuple(
            Comparison(name, base, _metric_ratios(f, entry, f"{where}.ratio_to_baseline.{base}"))
            for base, entry in baselines.items()
        ),
    )


def _mode(f: _Fields, value: object, where: str) -> ModeResult:
    d = f.obj(value, where)
    name = f.text(d.get("mode"), f"{where}.mode")
    description = f.opt_text(d.get("description"), f"{where}.description") or ""
    status = d.get("status")
    if status == "ok":
        return ModeResult(name, description, measured=_measurements(f, d, name, where))
    if status == "skipped":
        return ModeResult(
            name, description, skipped_reason=f.text(d.get("skipped_reason"), f"{where}.skipped_reason")
        )
    if status == "failed":
        return ModeResult(name, description, error=f.text(d.get("error"), f"{where}.error"))
    raise f.fail(f"{where}.status", f"expected ok, skipped or failed, not {status!r}")


def _run(f: _Fields, value: object) -> RunRecord:
    d = f.opt_obj(value, "run") or {}
    tool = f.opt_obj(d.get("tool"), "run.tool")
    order = d.get("order")
    return RunRecord(
        id=f.opt_text(d.get("id"), "run.id"),
        tool=None
        if tool is None
        else ToolInfo(
            f.text(tool.get("name"), "run.tool.name"), f.text(tool.get("version"), "run.tool.version")
        ),
        started_at=f.opt_text(d.get("started_at"), "run.started_at"),
        duration_s=f.opt_number(d.get("duration_s"), "run.duration_s"),
        quick=f.opt_boolean(d.get("quick"), "run.quick"),
        repeat=f.opt_integer(d.get("repeat"), "run.repeat"),
        warmup_rounds=f.opt_integer(d.get("warmup_rounds"), "run.warmup_rounds"),
        test_duration_s=f.opt_number(d.get("test_duration_s"), "run.test_duration_s"),
        omit_s=f.opt_integer(d.get("omit_s"), "run.omit_s"),
        seed=f.opt_integer(d.get("seed"), "run.seed"),
        order=None if order is None else f.texts(order, "run.order"),
        statistics=f.opt_text(d.get("statistics"), "run.statistics"),
    )


def _environment(f: _Fields, value: object) -> Environment:
    d = f.opt_obj(value, "environment") or {}
    up = f.opt_obj(d.get("userland_proxy"), "environment.userland_proxy")
    load = d.get("load_average")
    return Environment(
        hostname=f.opt_text(d.get("hostname"), "environment.hostname"),
        kernel=f.opt_text(d.get("kernel"), "environment.kernel"),
        os=f.opt_text(d.get("os"), "environment.os"),
        cpus=f.opt_integer(d.get("cpus"), "environment.cpus"),
        cpu_model=f.opt_text(d.get("cpu_model"), "environment.cpu_model"),
        load_average=None if load is None else f.numbers(load, "environment.load_average"),
        engine_version=f.opt_text(d.get("engine_version"), "environment.engine_version"),
        engine_api_version=f.opt_text(d.get("engine_api_version"), "environment.engine_api_version"),
        cgroup_version=f.opt_text(d.get("cgroup_version"), "environment.cgroup_version"),
        swarm=f.opt_text(d.get("swarm"), "environment.swarm"),
        userland_proxy=None
        if up is None
        else UserlandProxy(
            enabled=f.opt_boolean(up.get("enabled"), "environment.userland_proxy.enabled"),
            source=f.opt_text(up.get("source"), "environment.userland_proxy.source"),
            path_taken=f.opt_text(up.get("path_taken"), "environment.userland_proxy.path_taken"),
        ),
        congestion_control=f.opt_text(d.get("congestion_control"), "environment.congestion_control"),
        mtu=f.pairs(d.get("mtu", {}), "environment.mtu", f.opt_integer),
        tools=f.pairs(d.get("tools", {}), "environment.tools", f.opt_text),
        collected=tuple(name for name in d if name in ENVIRONMENT_FACTS),
    )


def from_json(doc: object, path: str | None = None) -> BenchResult:
    """Read a result document back; anything else is one ``InputError`` naming the field."""
    f = _Fields(path)
    if not isinstance(doc, dict) or doc.get("kind") != KIND:
        raise InputError(f"not an `auditor bench` result (missing kind: {KIND})", path)
    version = str(doc.get("schema_version", ""))
    if version.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
        raise InputError(
            f"unsupported benchmark schema_version {version!r} (expected {SCHEMA_VERSION})", path
        )
    modes = doc.get("modes")
    if not isinstance(modes, list):
        raise InputError("benchmark result has no valid `modes` list", path)
    comparisons: list[Comparison] = []
    for i, c in enumerate(f.lst(doc.get("comparisons", []), "comparisons")):
        where = f"comparisons[{i}]"
        entry = f.obj(c, where)
        mode = f.text(entry.get("mode"), f"{where}.mode")
        reference = f.text(entry.get("reference"), f"{where}.reference")
        comparisons.append(Comparison(mode, reference, _metric_ratios(f, entry, where)))
    return BenchResult(
        run=_run(f, doc.get("run")),
        environment=_environment(f, doc.get("environment")),
        modes=tuple(_mode(f, m, f"modes[{i}]") for i, m in enumerate(modes)),
        comparisons=tuple(comparisons),
    )


def load(path: str | os.PathLike[str]) -> BenchResult:
    """Read a result file written by ``auditor bench`` (bounded, like every named input)."""
    shown = os.fspath(path)
    return from_json(load_json(path, "benchmark result"), shown)
