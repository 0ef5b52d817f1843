"""Synthetic samples and a result built through the real ``results.build``."""

from __future__ import annotations

import os

from auditor.benchmarks import procfs
from auditor.benchmarks.environment import ENV_MARKER
from auditor.benchmarks.plan import options, plan
from auditor.benchmarks.results import build
from auditor.benchmarks.runner import KINDS, Sample
from auditor.benchmarks.settings import Capabilities

from auditor.model.bench import BenchResult, Environment, RunRecord, UserlandProxy

ENV = Environment(
    hostname="testhost",
    cpus=2,
    kernel="6.1",
    userland_proxy=UserlandProxy(True, "engine default"),
    mtu=(("lo", 65536), ("docker0", 1500)),
    collected=("hostname", "cpus", "kernel", "userland_proxy", "mtu"),
)
RUN = RunRecord(id="abc123", started_at="2026-11-27T20:00:00+00:00", repeat=5)


def mode_samples(
    gbps: list[float],
    p50: float = 20.0,
    conn: float = 10000.0,
    proxy_cpu: float | None = None,
    client_cpu: float = 40.0,
) -> dict[str, list[Sample | None]]:
    """One mode's per-round samples; throughput in Gbit/s, latency p50 in microseconds."""
    cpu = {"client": client_cpu, "server": 30.0, "proxy": proxy_cpu}
    data: dict[str, list[Sample | None]] = {k: [] for k in (*KINDS, "udp")}
    for i, g in enumerate(gbps):
        data["throughput"].append(
            Sample(
                "throughput",
                g * 1e9,
                {"retransmits": 0, "congestion": "cubic", "smoothed_rtt_under_load_us": 50.0},
                dict(cpu),
            )
        )
        data["reverse"].append(Sample("reverse", g * 0.9e9, {}, dict(cpu)))
        lat = p50 * (1 + 0.01 * i)
        data["latency"].append(
            Sample(
                "latency",
                lat,
                {"p50": lat, "p90": lat * 1.2, "p99": lat * 2, "p999": lat * 4, "observations": 1000},
                dict(cpu),
            )
        )
        data["connections"].append(Sample("connections", conn * (1 + 0.01 * i), {"errors": 0}, dict(cpu)))
        data["udp"].append(None)
    return data


def document(
    results: dict,
    modes: str = "bridge,user-bridge,host,host-to-container,published-nat,published-proxy",
    failures: dict | None = None,
    environment: Environment = ENV,
    **choices,
) -> BenchResult:
    opts = options(modes=modes, repeat=5, seed=1, **choices)
    planned = plan(opts, Capabilities())
    return build(planned, results, failures or {}, environment, RUN, opts)


def standard_results() -> dict:
    base = [10.0, 12.0, 11.0, 9.0, 10.5]
    return {
        "host-loopback": mode_samples(base, p50=15.0),
        "none-loopback": mode_samples([b * 1.5 for b in base], p50=14.0),
        "host": mode_samples(base, p50=15.0),
        "bridge": mode_samples([b * 0.7 for b in base], p50=22.0),
        "user-bridge": mode_samples([b * 0.72 for b in base], p50=22.5),
        "host-to-container": mode_samples([b * 0.8 for b in base], p50=20.0),
        "published-nat": mode_samples([b * 0.75 for b in base], p50=21.0),
        "published-proxy": mode_samples([b * 0.3 for b in base], p50=45.0, proxy_cpu=95.0),
    }


class NoEngine:
    """Just enough of a Docker client for a run of host-only modes: nothing to create or remove."""

    class api:  # noqa: N801 - the SDK's attribute name
        base_url = "http+docker://localunixsocket"

        @staticmethod
        def inspect_network(_name):
            return {"IPAM": {"Config": [{"Gateway": "198.18.0.1"}]}}

        @staticmethod
        def containers(**_filters):
            return []

        @staticmethod
        def networks(**_filters):
            return []

        @staticmethod
        def images(**_filters):
            return []

    @staticmethod
    def info():
        return {"Swarm": {"LocalNodeState": "inactive"}}

    @staticmethod
    def version():
        return {"Version": "test", "ApiVersion": "1.41"}


def marked_processes() -> list[int]:
    """Host processes a benchmark run of this (test) process started and that still exist."""
    marker = f"{ENV_MARKER}={os.getpid()}".encode()
    return [
        pid for pid in map(int, filter(str.isdigit, os.listdir("/proc"))) if procfs.environ_has(pid, marker)
    ]
