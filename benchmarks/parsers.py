"""Pure parsers for the measuring tools' output: iperf3 ``-J`` JSON and sockperf's text.

Each parser returns a frozen record or raises ``ToolOutputError``; an interrupted or killed
tool (empty, truncated or ``interrupt`` output) is an error, never a partial number.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass


class ToolOutputError(Exception):
    """The tool's output holds no usable measurement; ``interrupted`` when it was cut short."""

    def __init__(self, message: str, interrupted: bool = False):
        super().__init__(message)
        self.interrupted = interrupted


@dataclass(frozen=True)
class IperfResult:
    """One iperf3 test. ``mean_rtt_us`` is the smoothed RTT under load, never latency."""

    protocol: str  # tcp | udp
    reverse: bool
    seconds: float
    sent_bps: float
    received_bps: float
    retransmits: int | None
    mean_rtt_us: float | None
    cpu_local_pct: float | None
    cpu_remote_pct: float | None
    congestion: str | None
    udp_jitter_ms: float | None = None
    udp_lost_percent: float | None = None
    udp_packets: int | None = None

    @property
    def throughput_bps(self) -> float:
        """What arrived at the receiver (for UDP: what the sender managed to send)."""
        return self.received_bps if self.protocol == "tcp" else self.sent_bps


def _clean_errors(tool: str):
    """Output of an unexpected shape (a string where a table was expected, ...) is a
    ``ToolOutputError`` like any other unusable output, never a crash."""

    def wrap(parse):
        @functools.wraps(parse)
        def parse_cleanly(text: str):
            try:
                return parse(text)
            except (AttributeError, TypeError, ValueError, KeyError, IndexError, OverflowError) as exc:
                raise ToolOutputError(
                    f"{tool} output has an unexpected shape ({type(exc).__name__})"
                ) from None

        return parse_cleanly

    return wrap


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


@_clean_errors("iperf3")
def parse_iperf3(text: str) -> IperfResult:
    """Parse the JSON that ``iperf3 -c ... -J`` prints."""
    if not text.strip():
        raise ToolOutputError("iperf3 printed nothing (killed before it could report)", interrupted=True)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        raise ToolOutputError("iperf3 output is not complete JSON (cut short)", interrupted=True) from None
    if not isinstance(doc, dict):
        raise ToolOutputError("iperf3 output is not a JSON object")
    error = doc.get("error")
    if error:
        raise ToolOutputError(f"iperf3: {error}", interrupted="interrupt" in str(error).lower())
    start = doc.get("start") or {}
    end = doc.get("end") or {}
    test = start.get("test_start") or {}
    protocol = str(test.get("protocol", "TCP")).lower()
    reverse = bool(test.get("reverse", 0))
    cpu = end.get("cpu_utilization_percent") or {}
    if protocol == "udp":
        total = end.get("sum") or {}
        bps = _number(total.get("bits_per_second"))
        if bps is None or not total.get("packets"):
            raise ToolOutputError("iperf3 UDP result has no packets")
        return IperfResult(
            protocol="udp",
            reverse=reverse,
            seconds=float(total.get("seconds") or 0.0),
            sent_bps=bps,
            received_bps=bps * (1 - float(total.get("lost_percent") or 0) / 100),
            retransmits=None,
            mean_rtt_us=None,
            cpu_local_pct=_number(cpu.get("host_total")),
            cpu_remote_pct=_number(cpu.get("remote_total")),
            congestion=None,
            udp_jitter_ms=_number(total.get("jitter_ms")),
            udp_lost_percent=_number(total.get("lost_percent")),
            udp_packets=int(total["packets"]),
        )
    sent = end.get("sum_sent") or {}
    received = end.get("sum_received") or {}
    sent_bps = _number(sent.get("bits_per_second"))
    received_bps = _number(received.get("bits_per_second"))
    if sent_bps is None or received_bps is None:
        raise ToolOutputError("iperf3 result has no end.sum_sent/sum_received", interrupted=True)
    if not received.get("bytes"):
        raise ToolOutputError("iperf3 receiver reported no bytes", interrupted=True)
    measured = [_number((s.get("sender") or {}).get("mean_rtt")) for s in end.get("streams") or []]
    rtts = [r for r in measured if r is not None]
    retrans = sent.get("retransmits")
    return IperfResult(
        protocol="tcp",
        reverse=reverse,
        seconds=float(received.get("seconds") or 0.0),
        sent_bps=sent_bps,
        received_bps=received_bps,
        retransmits=int(retrans) if isinstance(retrans, int) else None,
        mean_rtt_us=sum(rtts) / len(rtts) if rtts else None,
        cpu_local_pct=_number(cpu.get("host_total")),
        cpu_remote_pct=_number(cpu.get("remote_total")),
        congestion=end.get("sender_tcp_congestion"),
    )


@dataclass(frozen=True)
class LatencyResult:
    """Round-trip latency percentiles in microseconds from one sockperf run."""

    p50: float
    p90: float
    p99: float
    p999: float
    minimum: float | None
    maximum: float | None
    mean: float | None
    observations: int
    full_round_trip: bool


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_PERCENTILE = re.compile(r"--->\s+percentile\s+([0-9.]+)\s*=\s*([0-9.]+)")
_EXTREME = re.compile(r"--->\s+<(MAX|MIN)>\s+observation\s*=\s*([0-9.]+)")
_SUMMARY = re.compile(r"Summary:\s+(Round trip|Latency) is\s+([0-9.]+)\s*usec")
_OBSERVATIONS = re.compile(r"Total\s+(\d+)\s+observations")


@_clean_errors("sockperf")
def parse_sockperf(text: str) -> LatencyResult:
    """Parse ``sockperf ping-pong``/``under-load`` output (run it with ``--full-rtt``)."""
    clean = _ANSI.sub("", text)
    for line in clean.splitlines():
        if "ERROR:" in line:
            raise ToolOutputError("sockperf: " + line.split("ERROR:", 1)[1].strip())
    if "No messages were sent" in clean:
        raise ToolOutputError("sockperf sent no messages (interrupted during warm-up)", interrupted=True)
    percentiles = {float(p): float(v) for p, v in _PERCENTILE.findall(clean)}
    summary = _SUMMARY.search(clean)
    observations = _OBSERVATIONS.search(clean)
    wanted = (50.0, 90.0, 99.0, 99.9)
    if not all(p in percentiles for p in wanted) or not summary or not observations:
        interrupted = "interrupted by user" in clean or "signal" in clean or not clean.strip()
        raise ToolOutputError("sockperf printed no latency percentiles", interrupted=interrupted)
    extremes = dict(_EXTREME.findall(clean))
    return LatencyResult(
        p50=percentiles[50.0],
        p90=percentiles[90.0],
        p99=percentiles[99.0],
        p999=percentiles[99.9],
        minimum=float(extremes["MIN"]) if "MIN" in extremes else None,
        maximum=float(extremes["MAX"]) if "MAX" in extremes else None,
        mean=float(summary.group(2)),
        observations=int(observations.group(1)),
        full_round_trip=summary.group(1) == "Round trip",
    )


@dataclass(frozen=True)
class ConnectionRate:
    """TCP connections opened and closed per second by the connection-rate client."""

    connections: int
    seconds: float
    errors: int

    @property
    def per_second(self) -> float:
        return self.connections / self.seconds if self.seconds > 0 else 0.0


@_clean_errors("connection-rate")
def parse_connrate(text: str) -> ConnectionRate:
    """Parse the one JSON line that ``python -m auditor.benchmarks.connrate client`` prints."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise ToolOutputError("connection-rate client printed nothing", interrupted=True)
    try:
        doc = json.loads(lines[-1])
    except json.JSONDecodeError:
        raise ToolOutputError("connection-rate output is not JSON", interrupted=True) from None
    if not isinstance(doc, dict):
        raise ToolOutputError("connection-rate output is not a JSON object")
    if doc.get("error"):
        raise ToolOutputError(f"connection rate: {doc['error']}")
    connections = int(doc.get("connections") or 0)
    if connections == 0:
        raise ToolOutputError("connection-rate client made no connection")
    return ConnectionRate(connections, float(doc.get("seconds") or 0.0), int(doc.get("errors") or 0))
