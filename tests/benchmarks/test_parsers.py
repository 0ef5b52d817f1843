"""Parsers on saved iperf3 -J and sockperf outputs, including error and interrupted runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from auditor.benchmarks.parsers import ToolOutputError, parse_connrate, parse_iperf3, parse_sockperf

DATA = Path(__file__).parent / "data"


def read(name: str) -> str:
    return (DATA / name).read_text()


def test_iperf3_forward_tcp():
    r = parse_iperf3(read("iperf3_tcp_forward.json"))
    assert r.protocol == "tcp" and r.reverse is False
    assert r.received_bps == pytest.approx(14751287430.066984)
    assert r.sent_bps == pytest.approx(14718507863.82342)
    assert r.throughput_bps == r.received_bps
    assert r.retransmits == 26
    assert r.congestion == "bbr"
    assert r.cpu_local_pct == pytest.approx(37.310923781839186)
    assert r.cpu_remote_pct == pytest.approx(53.63722800439847)
    assert r.mean_rtt_us is not None and r.mean_rtt_us > 0


def test_iperf3_reverse_tcp():
    r = parse_iperf3(read("iperf3_tcp_reverse.json"))
    assert r.reverse is True
    assert r.received_bps == pytest.approx(16700172481.691895)
    assert r.cpu_remote_pct == pytest.approx(97.77655919536237)


def test_iperf3_udp_loss_and_jitter():
    r = parse_iperf3(read("iperf3_udp.json"))
    assert r.protocol == "udp"
    assert r.udp_packets == 10408
    assert r.udp_lost_percent == 0
    assert r.udp_jitter_ms == pytest.approx(0.006199156746300834)
    assert r.throughput_bps == pytest.approx(99910006.11958387)


def test_iperf3_connection_refused_is_an_error_not_interrupted():
    with pytest.raises(
        ToolOutputError, match="iperf3: unable to connect to server: Connection refused"
    ) as info:
        parse_iperf3(read("iperf3_error_refused.json"))
    assert info.value.interrupted is False


def test_iperf3_interrupted_run_gives_no_number():
    # SIGINT mid-test: iperf3 still prints JSON with partial sums and an "interrupt" error
    with pytest.raises(ToolOutputError, match="interrupt - the client has terminated") as info:
        parse_iperf3(read("iperf3_interrupted.json"))
    assert info.value.interrupted is True


@pytest.mark.parametrize("name", ["iperf3_killed_empty.json", "iperf3_truncated.json"])
def test_iperf3_killed_or_truncated(name):
    with pytest.raises(ToolOutputError) as info:
        parse_iperf3(read(name))
    assert info.value.interrupted is True


def test_sockperf_ping_pong_percentiles():
    r = parse_sockperf(read("sockperf_pingpong_tcp.txt"))
    assert (r.p50, r.p90, r.p99, r.p999) == (69.422, 86.397, 115.469, 176.089)
    assert r.observations == 7672
    assert r.full_round_trip is True
    assert r.mean == 71.645
    assert (r.minimum, r.maximum) == (25.888, 4255.864)


def test_sockperf_under_load_has_same_shape():
    r = parse_sockperf(read("sockperf_underload_tcp.txt"))
    assert r.p50 == 78.621 and r.observations == 54


def test_sockperf_connection_refused():
    with pytest.raises(
        ToolOutputError, match=r"sockperf: Can`t connect socket \(errno=111 Connection refused\)"
    ) as info:
        parse_sockperf(read("sockperf_error_refused.txt"))
    assert info.value.interrupted is False


def test_sockperf_interrupted_during_warmup():
    with pytest.raises(ToolOutputError, match="sent no messages") as info:
        parse_sockperf(read("sockperf_interrupted.txt"))
    assert info.value.interrupted is True


def test_sockperf_half_rtt_output_is_marked():
    text = read("sockperf_pingpong_tcp.txt").replace("Summary: Round trip is", "Summary: Latency is")
    assert parse_sockperf(text).full_round_trip is False


def test_sockperf_cut_off_before_percentiles():
    text = read("sockperf_pingpong_tcp.txt").split("percentile 99.000")[0]
    with pytest.raises(ToolOutputError, match="no latency percentiles"):
        parse_sockperf(text)


def test_connrate_line():
    r = parse_connrate('{"connections": 1000, "seconds": 0.5, "errors": 2}\n')
    assert r.per_second == 2000.0 and r.errors == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "printed nothing"),
        ("garbage", "not JSON"),
        (
            '{"connections": 0, "seconds": 1, "errors": 101, "error": "cannot connect to 10.0.0.1:1"}',
            "cannot connect",
        ),
        ('{"connections": 0, "seconds": 1, "errors": 0}', "made no connection"),
    ],
)
def test_connrate_errors(text, message):
    with pytest.raises(ToolOutputError, match=message):
        parse_connrate(text)
