"""``run_benchmark``: the typed errors a run ends in, and clean-up when it is interrupted.

Runs of host-only modes (no engine needed), with the real tools on loopback.
"""

from __future__ import annotations

import shutil

import docker.errors
import pytest
from auditor.benchmarks.modes import MODES
from auditor.benchmarks.plan import options
from auditor.benchmarks.session import INTERRUPTED, BenchFailed, BenchInterrupted, run_benchmark

from .synthetic import NoEngine, marked_processes

HOST_ONLY = (MODES[0],)  # host-loopback


@pytest.fixture(autouse=True)
def tools_present():
    missing = [t for t in ("iperf3", "sockperf") if not shutil.which(t)]
    if missing:
        pytest.fail(f"benchmark tools missing: {missing} (scripts/setup-env.sh installs them)")


def quick():
    return options(duration=1, repeat=1, warmup=0, omit=0, seed=5, registry=HOST_ONLY)


def test_an_interrupted_run_raises_its_error_after_removing_its_processes():
    seen = []

    def interrupt(done, total, step, eta):
        seen.append(marked_processes())  # the servers of host-loopback are up
        raise KeyboardInterrupt

    with pytest.raises(BenchInterrupted) as info:
        run_benchmark(quick(), NoEngine(), progress=interrupt, registry=HOST_ONLY)
    assert str(info.value) == INTERRUPTED and info.value.exit_code == 130
    assert len(seen) == 1 and len(seen[0]) == 3  # iperf3, sockperf and the connection-rate server
    assert marked_processes() == []


class BrokenEngine(NoEngine):
    @staticmethod
    def info():
        raise docker.errors.APIError("500 Server Error: daemon is shutting down")


def test_an_engine_error_is_a_set_up_failure_with_exit_3():
    with pytest.raises(BenchFailed) as info:
        run_benchmark(quick(), BrokenEngine(), registry=HOST_ONLY)
    assert str(info.value) == "benchmark set-up failed: 500 Server Error: daemon is shutting down"
    assert info.value.exit_code == 3


def test_a_short_host_only_run():
    result = run_benchmark(quick(), NoEngine(), registry=HOST_ONLY)
    (mode,) = result.modes
    assert mode.mode == "host-loopback" and mode.measured is not None
    assert mode.measured.throughput_bps.median > 0
    assert result.run.order == ("host-loopback#1",) and result.run.seed == 5 and result.run.repeat == 1
    assert result.run.tool.name == "auditor"
    assert result.environment.engine_version == "test"
    assert marked_processes() == []
