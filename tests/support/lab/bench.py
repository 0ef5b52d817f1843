"""``auditor bench`` on lab engines: macvlan and overlay measured for real (docs/bench-lab.md).

    sudo scripts/bench-lab.sh --out docs/bench-lab [--duration 2 --repeat 5 --seed 1]

The machine's engine has no spare parent interface and is no swarm node, so there the
benchmark skips macvlan and overlay. Here a two-engine lab is started (``e1`` with a macvlan
parent ``mv0`` on the lab LAN, ``e2``), the two form a swarm on the LAN (e1 manager, e2
worker), the tools image is built in both engines, and the benchmark runs **inside e1's network
namespace** with e1 as its engine, so "the host" of every host mode is e1's namespace and
docker-proxy, DNAT and docker0 are e1's. Besides the benchmark's own modes (macvlan on ``mv0``,
overlay with both containers on e1) two lab modes cross the LAN:

- ``lan``: a host process in e1's namespace to one in e2's, over veth, the LAN bridge and veth:
  the underlay the overlay runs on;
- ``overlay-cross``: a client container on e1 to a server container on e2 over an attachable
  overlay: VXLAN between two engines.

The result is written as ``OUT.json``, ``OUT.html`` and ``OUT.txt`` (the terminal table), the
benchmark's own reporters. Everything is removed at the end, on failure and on Ctrl-C/SIGTERM:
the benchmark removes its objects, this module the cross-engine ones, the lab everything else.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import docker.errors
from auditor.benchmarks import plan, session
from auditor.benchmarks.environment import (
    CONN_PORT,
    IPERF_PORT,
    SOCKPERF_PORT,
    BenchEnvironment,
    BenchError,
    Route,
    Servers,
    in_netns,
    labels,
    netns_of,
    server_command,
    wait_listening,
)
from auditor.benchmarks.image import build_image
from auditor.benchmarks.modes import MODES, Mode, Relative

from auditor.model.bench import BenchResult

from . import system
from .core import Lab
from .plan import EngineConfig, LabError

ENGINES = (EngineConfig("e1", macvlan_parent=True), EngineConfig("e2"))
TOOLS_IMAGE = "auditor-labbench/tools:lab"
LAB_LABEL = "io.auditor.labbench"
CHILD_STOP_TIMEOUT = 60.0  # the benchmark's own clean-up after SIGINT, before it is killed
REPO = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class Peer:
    """The second engine as the benchmark in e1's namespace reaches it."""

    url: str
    netns: str  # a path for ``nsenter --net``
    lan_ip: str
    image: str


@dataclass
class CrossEngine:
    """The two lab modes that cross the LAN, and what they made outside the benchmark's reach.

    The benchmark removes what it created on its own engine; the server container on the
    peer and the overlay it joined (created on e1, but joined from e2, so it can only go after
    the peer's container) are removed by ``remove`` once the benchmark has finished.
    """

    peer: Peer
    client: Any  # docker.DockerClient of the peer
    containers: list[Any] = field(default_factory=list)
    networks: list[Any] = field(default_factory=list)

    def modes(self) -> tuple[Mode, ...]:
        return (
            Mode(
                "lan",
                "engine host to engine host across the lab LAN (veth, bridge, veth): the overlay's underlay",
                self._lan,
                containers=False,
            ),
            Mode(
                "overlay-cross",
                "container on e1 to container on e2 over an attachable overlay: VXLAN across the lab LAN",
                self._overlay_cross,
                relatives=(Relative("lan", 7), Relative("overlay", 8)),
            ),
        )

    def _lan(self, bench: BenchEnvironment) -> Route:
        netns, address = self.peer.netns, self.peer.lan_ip
        iperf = bench.spawn(in_netns(netns, ["iperf3", "-s", "-B", address, "-p", str(IPERF_PORT)]))
        sockperf = bench.spawn(
            in_netns(netns, ["sockperf", "server", "--tcp", "-i", address, "-p", str(SOCKPERF_PORT)])
        )
        conn = bench.connrate_server(netns, CONN_PORT, address)
        # nsenter execs the server, so its pid is the server's (in e2's namespace)
        wait_listening(iperf.pid, [IPERF_PORT, SOCKPERF_PORT, CONN_PORT], "servers in e2's namespace")
        servers = Servers(iperf.pid, sockperf.pid, conn)
        return Route("lan", None, address, IPERF_PORT, SOCKPERF_PORT, CONN_PORT, servers)

    def _overlay_cross(self, bench: BenchEnvironment) -> Route:
        network = bench.client.networks.create(
            bench.name("overlay-cross"), driver="overlay", attachable=True, labels={LAB_LABEL: "1"}
        )
        self.networks.append(network)
        server = self.client.containers.run(
            self.peer.image,
            server_command(),
            name=bench.name("overlay-cross-server"),
            labels=labels(bench.run_id),
            network=network.name,
            detach=True,
        )
        self.containers.append(server)
        server.reload()
        if not server.attrs["State"].get("Running"):
            raise BenchError(
                f"the server on e2 exited at start: {server.logs(tail=5).decode(errors='replace')}"
            )
        _, servers = bench.namespace_servers(server)
        client = bench.container("overlay-cross-client", ["sleep", "86400"], network=network.name)
        address = str(server.attrs["NetworkSettings"]["Networks"][network.name]["IPAddress"])
        return Route(
            "overlay-cross", netns_of(client), address, IPERF_PORT, SOCKPERF_PORT, CONN_PORT, servers
        )

    def remove(self, manager: Any, timeout: float = 30.0) -> list[str]:
        """Remove the peer's containers, then the overlay on the manager; what could not be removed."""
        problems = []
        for container in self.containers:
            try:
                container.remove(force=True)
            except docker.errors.NotFound:
                pass
            except docker.errors.APIError as exc:
                problems.append(f"container {container.name}: {exc}")
        for network in self.networks:
            deadline = time.monotonic() + timeout
            while True:  # the worker's endpoint leaves the manager's records a moment later
                try:
                    manager.networks.get(network.id).remove()
                    break
                except docker.errors.NotFound:
                    break
                except docker.errors.APIError as exc:
                    if time.monotonic() > deadline:
                        problems.append(f"network {network.name}: {exc}")
                        break
                    time.sleep(0.5)
        return problems


# --- the benchmark, inside e1's namespace ---------------------------------------------------


def _progress(done: int, total: int, step: Any, eta: float | None) -> None:
    if done >= total:
        print(f"[bench-lab] {total}/{total} measurements done", file=sys.stderr, flush=True)
        return
    phase = "warm-up" if step.warmup else f"repetition {step.round + 1}"
    left = f", about {eta:.0f}s left" if eta is not None else ""
    print(f"[bench-lab] {done + 1}/{total} {step.mode} ({phase}){left}", file=sys.stderr, flush=True)


def _log(message: str) -> None:
    print(f"[bench-lab] {message}", file=sys.stderr, flush=True)


def write_result(result: BenchResult, out: Path) -> list[Path]:
    """``OUT.json``, ``OUT.html`` and ``OUT.txt`` from the benchmark's own reporters."""
    from auditor.reports.bench_html import render_html
    from auditor.reports.bench_json import render_json
    from auditor.reports.bench_table import render_table

    written = []
    for suffix, render in ((".json", render_json), (".html", render_html), (".txt", render_table)):
        path = out.with_name(out.name + suffix)
        with open(path, "w", encoding="utf-8") as stream:
            render(result, stream)
        written.append(path)
    return written


def child(spec: dict[str, Any]) -> int:
    """Run the benchmark on e1 with the lab modes; exit 0, 3 (a mode failed) or 130."""
    peer = Peer(**spec["peer"])
    manager = docker.DockerClient(base_url=spec["engine"], timeout=120)
    cross = CrossEngine(peer, docker.DockerClient(base_url=peer.url, timeout=120))
    registry = (*MODES, *cross.modes())
    opts = plan.options(
        modes=spec["modes"],
        duration=spec["duration"],
        repeat=spec["repeat"],
        warmup=spec["warmup"],
        omit=spec["omit"],
        seed=spec["seed"],
        image=peer.image,
        macvlan_parent="mv0",
        overlay=True,
        registry=registry,
    )
    try:
        result = session.run_benchmark(opts, manager, _progress, _log, registry)
    except session.BenchInterrupted as exc:
        _log(str(exc))
        return 130
    except session.BenchFailed as exc:
        _log(f"failed: {exc}")
        return 3
    finally:
        for problem in cross.remove(manager):
            _log(f"not removed: {problem}")
    for path in write_result(result, Path(spec["out"])):
        _log(f"wrote {path}")
    failed = [m.mode for m in result.modes if m.status != "ok"]
    if failed:
        _log(f"not measured: {', '.join(failed)}")
    return 3 if failed else 0


# --- the lab around it ----------------------------------------------------------------------


@dataclass(frozen=True)
class LabBenchRun:
    """What a run did: the child's exit code, the files, and what was left on the engines
    after the benchmark and before the lab closed (should be nothing but the tools image)."""

    exit_code: int
    files: tuple[Path, ...]
    leftovers: dict[str, tuple[str, ...]]
    lan_bytes: dict[str, int]  # bytes through each port of the LAN bridge during the benchmark
    lab_id: str
    namespaces: tuple[str, ...]
    timings: dict[str, float]


def _leftovers(client: Any) -> tuple[str, ...]:
    """Containers and non-default networks still on an engine (what the benchmark made)."""
    containers = [f"container {c['Names'][0].lstrip('/')}" for c in client.api.containers(all=True)]
    builtin = {"bridge", "host", "none", "ingress", "docker_gwbridge"}
    networks = [f"network {n['Name']}" for n in client.api.networks() if n["Name"] not in builtin]
    return tuple(sorted(containers + networks))


def _lan_port_bytes(lab: Lab) -> dict[str, int]:
    """Bytes received + sent so far by each port of the LAN bridge (engines, macvlan parents)."""
    proc = system.run_in(lab.plan.lan_netns, ["ip", "-s", "-j", "link", "show", "master", "br0"])
    return {
        link["ifname"]: int(link["stats64"]["rx"]["bytes"]) + int(link["stats64"]["tx"]["bytes"])
        for link in json.loads(proc.stdout)
    }


def _run_child(lab: Lab, argv: Sequence[str], env: dict[str, str]) -> int:
    """The benchmark in e1's namespace; on Ctrl-C or SIGTERM it gets SIGINT and time to clean up."""
    proc = subprocess.Popen(system.nsenter_argv(lab.engines["e1"].netns, argv), env=env, cwd=REPO)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGINT)
        try:
            proc.wait(CHILD_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        raise


def run(
    out: Path,
    *,
    duration: float = 2.0,
    repeat: int = 5,
    warmup: int = 1,
    omit: int = 1,
    seed: int | None = None,
    modes: str | None = None,
) -> LabBenchRun:
    """Start the lab, form the swarm, build the image, run the benchmark, close the lab."""
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    t0 = time.monotonic()
    with Lab(ENGINES, image=None) as lab:
        timings["lab start"] = time.monotonic() - t0
        t1 = time.monotonic()
        lab.form_swarm(managers=["e1"], workers=["e2"])
        timings["swarm"] = time.monotonic() - t1
        t2 = time.monotonic()
        with ThreadPoolExecutor(max_workers=len(lab.engines)) as pool:
            list(
                pool.map(
                    lambda e: build_image(e.client, TOOLS_IMAGE, {LAB_LABEL: lab.plan.lab_id}),
                    lab.engines.values(),
                )
            )
        timings["image"] = time.monotonic() - t2
        e1, e2 = lab.engines["e1"], lab.engines["e2"]
        spec = {
            "engine": e1.url,
            "peer": {
                "url": e2.url,
                "netns": str(system.netns_path(e2.netns)),
                "lan_ip": e2.lan_ip,
                "image": TOOLS_IMAGE,
            },
            "out": str(out),
            "modes": modes,
            "duration": duration,
            "repeat": repeat,
            "warmup": warmup,
            "omit": omit,
            "seed": seed,
        }
        env = {
            **os.environ,
            "DOCKER_HOST": e1.url,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "tests"), os.environ.get("PYTHONPATH")])),
        }
        t3 = time.monotonic()
        before = _lan_port_bytes(lab)
        code = _run_child(lab, [sys.executable, "-m", "support.lab.bench", "child", json.dumps(spec)], env)
        timings["bench"] = time.monotonic() - t3
        after = _lan_port_bytes(lab)
        lan_bytes = {port: after[port] - before.get(port, 0) for port in sorted(after)}
        leftovers = {name: _leftovers(engine.client) for name, engine in lab.engines.items()}
        lab_id, namespaces = lab.plan.lab_id, lab.plan.namespaces
        t4 = time.monotonic()
    timings["lab close"] = time.monotonic() - t4
    files = tuple(out.with_name(out.name + s) for s in (".json", ".html", ".txt"))
    return LabBenchRun(
        code, tuple(f for f in files if f.exists()), leftovers, lan_bytes, lab_id, namespaces, timings
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench-lab", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    child_parser = sub.add_parser("child", help="(internal) the benchmark inside e1's namespace")
    child_parser.add_argument("spec")
    parser.add_argument("--out", type=Path, default=Path("bench-lab"), help="OUT.json, OUT.html, OUT.txt")
    parser.add_argument("--duration", type=float, default=2.0, help="seconds per test (default 2)")
    parser.add_argument("--repeat", type=int, default=5, help="measured repetitions (default 5)")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--omit", type=int, default=1, help="iperf3 -O seconds (default 1)")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--modes", help="comma-separated modes (default: all; baselines always run)")
    args = parser.parse_args(argv)
    if args.command == "child":
        return child(json.loads(args.spec))
    if os.geteuid() != 0:
        parser.error("the lab needs root (namespaces, dockerd)")
    try:
        done = run(
            args.out,
            duration=args.duration,
            repeat=args.repeat,
            warmup=args.warmup,
            omit=args.omit,
            seed=args.seed,
            modes=args.modes,
        )
    except KeyboardInterrupt:
        print("bench-lab: interrupted; the lab and everything in it were removed", file=sys.stderr)
        return 130
    except LabError as exc:
        print(f"bench-lab: {exc}", file=sys.stderr)
        return 3
    steps = ", ".join(f"{k} {v:.1f} s" for k, v in done.timings.items())
    print(f"bench-lab: exit {done.exit_code}; {steps}", file=sys.stderr)
    crossed = ", ".join(f"{port} {count / 1e9:.1f} GB" for port, count in done.lan_bytes.items())
    print(f"bench-lab: through the LAN bridge's ports: {crossed}", file=sys.stderr)
    for name, left in done.leftovers.items():
        if left:
            print(f"bench-lab: left on {name} before the lab closed: {', '.join(left)}", file=sys.stderr)
    return done.exit_code


if __name__ == "__main__":
    sys.exit(main())
