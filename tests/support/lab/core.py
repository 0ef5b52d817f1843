"""``Lab``: several isolated Docker engines and outside hosts on one lab LAN.

    with Lab([EngineConfig("e1"), EngineConfig("e2", daemon={"icc": False})],
             outside=["laptop"], image_source=machine_client) as lab:
        c = lab.engines["e1"].client.containers.run(IMAGE, "nc -ll -p 80 -e echo hi",
                                                     ports={"80/tcp": 8080}, detach=True)
        assert lab.probe("laptop", lab.address("e1"), 8080).outcome is Outcome.OPEN

Each engine is a real dockerd in its own network namespace (started with ``nsenter --net``,
which keeps the machine's cgroup mounts, unlike ``ip netns exec``), with its own data-root,
exec-root, socket, pidfile, containerd (dockerd's own child), daemon.json, iptables and
hostname (a UTS namespace of its own). Nothing is pulled: the test image is saved from the
machine's engine once and loaded into each lab engine. See docs/testing.md.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import secrets
import signal
import subprocess
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import docker
import docker.errors
import docker.types

from ..engine import IMAGE, build_test_image
from . import reaper, system, tls
from .plan import (
    INTERNET,
    INTERNET6,
    SWARM_POOL,
    EngineConfig,
    EnginePlan,
    HostPlan,
    LabError,
    LabPlan,
    TlsPaths,
    daemon_json,
    inside_lab_space,
    make_plan,
)
from .probe import Outcome, ProbeResult, Target, probe_all

START_TIMEOUT = 90.0
STOP_TIMEOUT = 8.0
# Swarm tasks use the loaded image instead of trying a registry first (nothing is pulled).
DAEMON_ENV = {"DOCKER_SERVICE_PREFER_OFFLINE_IMAGE": "1"}


@dataclass(frozen=True)
class Macvlan:
    """What a macvlan network on this engine's lab parent should use (no two engines overlap)."""

    parent: str
    subnet: str
    ip_range: str
    gateway: str


class LabEngine:
    """One running lab engine."""

    def __init__(self, plan: EnginePlan) -> None:
        self.plan = plan
        self.process: subprocess.Popen[bytes] | None = None
        self.client: docker.DockerClient = None  # type: ignore[assignment]  # set once it answers
        self.tls: TlsPaths | None = None
        self.containerd_pid: int | None = None  # dockerd's own child, from its pidfile

    name = property(lambda self: self.plan.name)
    netns = property(lambda self: self.plan.netns)
    socket = property(lambda self: self.plan.socket)
    url = property(lambda self: f"unix://{self.plan.socket}")
    lan_ip = property(lambda self: str(self.plan.lan_ip))
    lan_ip6 = property(lambda self: str(self.plan.lan_ip6))
    tcp_url = property(lambda self: self.plan.tcp_url)
    config_file = property(lambda self: self.plan.config_file)
    data_root = property(lambda self: self.plan.data_root)
    exec_root = property(lambda self: self.plan.exec_root)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def macvlan(self) -> Macvlan | None:
        if not self.plan.config.macvlan_parent:
            return None
        lan = ipaddress.ip_network(f"{self.plan.lan_ip}/24", strict=False)
        return Macvlan("mv0", str(lan), str(self.plan.macvlan_range), str(lan.network_address + 1))

    def tls_env(self) -> dict[str, str]:
        """Environment for the docker CLI (or the auditor) to reach the TCP API."""
        if not self.tcp_url:
            raise LabError(f"engine {self.name} has no TCP API")
        env = {"DOCKER_HOST": self.tcp_url}
        if self.tls is not None:
            env.update({"DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": str(self.tls.client_dir)})
        return env

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.plan.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


@dataclass(frozen=True)
class OutsideHost:
    plan: HostPlan

    name = property(lambda self: self.plan.name)
    netns = property(lambda self: self.plan.netns)
    lan_ip = property(lambda self: str(self.plan.lan_ip))
    lan_ip6 = property(lambda self: str(self.plan.lan_ip6))


@dataclass(frozen=True)
class Swarm:
    manager: str
    managers: tuple[str, ...]
    workers: tuple[str, ...]
    node_ids: dict[str, str]


class Lab:
    """A context manager; see the module docstring. ``close()`` raises ``LabError`` if
    anything the lab made could not be removed (after trying everything)."""

    def __init__(
        self,
        engines: Sequence[EngineConfig],
        outside: Sequence[str] = (),
        lan: str = "198.18.0.0/24",
        *,
        internet: Sequence[str] = (),
        image_source: docker.DockerClient | None = None,
        image: str | None = IMAGE,
        base_dir: Path = reaper.DEFAULT_BASE,
    ) -> None:
        self.plan: LabPlan = make_plan(
            engines, outside, lan, base_dir, os.getpid(), secrets.token_hex(2), internet=internet
        )
        self.engines = {e.name: LabEngine(e) for e in self.plan.engines}
        self.hosts = {h.name: OutsideHost(h) for h in self.plan.hosts}
        self.image = image
        self._image_source = image_source
        self._base = base_dir
        self._inodes: dict[str, int] = {}
        self._state_lock = threading.Lock()
        self._started = False
        self._closed = False
        self._old_sigterm: Any = None
        self._caught_sigterm = False
        self.reaped: dict[str, list[str]] = {}
        self.timings: dict[str, float] = {}
        self.swarm: Swarm | None = None
        self._spawned: list[subprocess.Popen[str]] = []

    # --- life cycle ---------------------------------------------------------------------

    def __enter__(self) -> Lab:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        if self._started:
            raise LabError("a Lab starts once")
        self._started = True
        t0 = time.monotonic()
        self.reaped = reaper.reap_stale(self._base)
        self.plan.directory.mkdir(parents=True, exist_ok=False)
        self._save_state()
        self._catch_sigterm()
        try:
            image_tar = self._saved_image()
            t1 = time.monotonic()
            self._build_network()
            t2 = time.monotonic()
            self._make_tls()
            with ThreadPoolExecutor(max_workers=len(self.engines)) as pool:
                list(pool.map(lambda e: self._start_engine(e, image_tar), self.engines.values()))
            t3 = time.monotonic()
        except BaseException:
            self.close()
            raise
        self.timings.update({"reap+save": t1 - t0, "network": t2 - t1, "engines": t3 - t2, "total": t3 - t0})

    def close(self) -> None:
        """Stop the daemons and remove everything; safe to call twice and after failures."""
        if self._closed or not self._started:
            return
        self._closed = True
        old = self._mask_signals()
        try:
            for proc in self._spawned:
                if proc.poll() is None:
                    proc.kill()
                proc.communicate()
            with ThreadPoolExecutor(max_workers=max(1, len(self.engines))) as pool:
                list(pool.map(self._stop_engine, self.engines.values()))
            problems = reaper.destroy(self.plan.lab_id, self.plan.directory, set(self._inodes.values()))
        finally:
            self._restore_signals(old)
        if problems:
            raise LabError("lab clean-up left: " + "; ".join(problems))

    def _catch_sigterm(self) -> None:
        """SIGTERM becomes KeyboardInterrupt, so ``with`` blocks and fixtures clean up."""
        if threading.current_thread() is not threading.main_thread():
            return

        def on_term(signum: int, frame: FrameType | None) -> None:
            raise KeyboardInterrupt(f"signal {signum}")

        previous = signal.signal(signal.SIGTERM, on_term)
        self._old_sigterm = signal.SIG_DFL if previous is None else previous  # None: set outside Python
        self._caught_sigterm = True

    def _mask_signals(self) -> dict[int, Any] | None:
        """Ignore Ctrl-C and SIGTERM while cleaning up (a second Ctrl-C must not leave half a lab)."""
        if threading.current_thread() is not threading.main_thread():
            return None
        return {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}

    def _restore_signals(self, masked: dict[int, Any] | None) -> None:
        """Back to the handlers from before the lab: SIGINT as at clean-up, SIGTERM as at start."""
        if masked is None:
            return
        signal.signal(signal.SIGINT, masked[signal.SIGINT] or signal.SIG_DFL)
        term = self._old_sigterm if self._caught_sigterm else masked[signal.SIGTERM]
        signal.signal(signal.SIGTERM, term or signal.SIG_DFL)

    def _save_state(self) -> None:
        owner = reaper.Owner.me()
        with self._state_lock:
            reaper.write_state(
                self.plan.directory,
                {
                    "lab_id": self.plan.lab_id,
                    "owner": {"pid": owner.pid, "start_time": owner.start_time, "boot_id": owner.boot_id},
                    "namespaces": dict(self._inodes),
                    "pids": {
                        e.name: {"dockerd": e.pid, "containerd": e.containerd_pid}
                        for e in self.engines.values()
                        if e.pid
                    },
                },
            )

    # --- building -----------------------------------------------------------------------

    def _saved_image(self) -> bytes | None:
        """``docker save`` of the test image from the machine's engine (built there if missing)."""
        if self.image is None:
            return None
        source = self._image_source or docker.from_env(timeout=120)
        for attempt in range(2):  # another test session may remove the test image meanwhile
            if self.image == IMAGE:
                build_test_image(source)
            try:
                return b"".join(source.images.get(self.image).save(named=True))
            except docker.errors.ImageNotFound:
                if attempt:
                    raise
        return None

    def _build_network(self) -> None:
        lan = self.plan.lan_netns
        for name in self.plan.namespaces:
            self._inodes[name] = system.add_netns(name)
            self._save_state()
        system.ip("-n", lan, "link", "add", "br0", "type", "bridge")
        system.ip("-n", lan, "link", "set", "br0", "up")
        for engine in self.plan.engines:
            self._join_lan(engine.netns, engine.lan_port, engine.lan_ip, engine.lan_ip6)
            if engine.macvlan_port:
                self._veth_to_lan(engine.netns, engine.macvlan_port, "mv0")
                system.ip("-n", engine.netns, "link", "set", "mv0", "up")
                # mv0 has no address, but by default Linux answers ARP for any local address on
                # any interface: neighbours would learn e1's LAN address at mv0's MAC, which
                # then ages out of the bridge and e1's traffic is flooded to every port
                system.sysctl_write(engine.netns, "net.ipv4.conf.mv0.arp_ignore", "1")
            system.sysctl_write(engine.netns, "net.ipv4.ip_forward", "1" if engine.config.forwarding else "0")
        for host in self.plan.hosts:
            if host.segment == "lan":
                self._join_lan(host.netns, host.name, host.lan_ip, host.lan_ip6)
            system.sysctl_write(host.netns, "net.ipv4.ip_forward", "0")
        system.sysctl_write(lan, "net.ipv4.ip_forward", "0")
        if self.plan.router_netns:
            self._build_internet(self.plan.router_netns)

    def _build_internet(self, router: str) -> None:
        """A router between the LAN and an internet segment; the engines' default routes
        point at it, so what the internet reaches is what a host beyond a gateway reaches."""
        plan = self.plan
        self._join_lan(router, "router", plan.router_lan_ip, plan.router_lan_ip6)
        system.ip("-n", router, "link", "add", "br1", "type", "bridge")
        system.ip("-n", router, "addr", "add", f"{INTERNET.network_address + 1}/24", "dev", "br1")
        system.ip("-n", router, "addr", "add", f"{INTERNET6.network_address + 1}/64", "dev", "br1", "nodad")
        system.ip("-n", router, "link", "set", "br1", "up")
        system.sysctl_write(router, "net.ipv4.ip_forward", "1")
        system.sysctl_write(router, "net.ipv6.conf.all.forwarding", "1")
        for host in plan.hosts:
            if host.segment != "internet":
                continue
            system.ip(
                "-n",
                router,
                "link",
                "add",
                host.name,
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "netns",
                host.netns,
            )
            system.ip("-n", router, "link", "set", host.name, "master", "br1", "up")
            system.ip("-n", host.netns, "addr", "add", f"{host.lan_ip}/24", "dev", "eth0")
            system.ip("-n", host.netns, "addr", "add", f"{host.lan_ip6}/64", "dev", "eth0", "nodad")
            system.ip("-n", host.netns, "link", "set", "eth0", "up")
            system.ip("-n", host.netns, "route", "add", "default", "via", str(INTERNET.network_address + 1))
            system.ip(
                "-n", host.netns, "-6", "route", "add", "default", "via", str(INTERNET6.network_address + 1)
            )
        for engine in plan.engines:
            system.ip("-n", engine.netns, "route", "add", "default", "via", str(plan.router_lan_ip))
            system.ip("-n", engine.netns, "-6", "route", "add", "default", "via", str(plan.router_lan_ip6))

    def _veth_to_lan(self, netns: str, lan_side: str, inside: str) -> None:
        lan = self.plan.lan_netns
        system.ip("-n", lan, "link", "add", lan_side, "type", "veth", "peer", "name", inside, "netns", netns)
        system.ip("-n", lan, "link", "set", lan_side, "master", "br0", "up")

    def _join_lan(self, netns: str, lan_side: str, ip4: Any, ip6: Any) -> None:
        self._veth_to_lan(netns, lan_side, "eth0")
        system.ip("-n", netns, "addr", "add", f"{ip4}/24", "dev", "eth0")
        system.ip("-n", netns, "addr", "add", f"{ip6}/64", "dev", "eth0", "nodad")
        system.ip("-n", netns, "link", "set", "eth0", "up")

    def _make_tls(self) -> None:
        wanted = [e for e in self.engines.values() if e.plan.config.tcp and e.plan.config.tcp.tls]
        if not wanted:
            return
        tls.make_ca(self.plan.tls_dir)
        for engine in wanted:
            engine.tls = tls.server_cert(self.plan.tls_dir, engine.name, engine.lan_ip)

    def _start_engine(self, engine: LabEngine, image_tar: bytes | None) -> None:
        plan = engine.plan
        for directory in (plan.data_root, plan.exec_root):
            directory.mkdir(parents=True, exist_ok=True)
        plan.config_file.write_text(json.dumps(daemon_json(self.plan, plan, engine.tls), indent=2))
        argv = system.nsenter_argv(
            plan.netns,
            [
                "unshare", "--uts", "--", "sh", "-c", 'hostname "$0" && exec "$@"', plan.name,
                "dockerd", "--config-file", str(plan.config_file), "--data-root", str(plan.data_root),
                "--exec-root", str(plan.exec_root), "--pidfile", str(plan.pidfile),
            ],
        )  # fmt: skip
        with open(plan.log_file, "ab") as log:
            engine.process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches the tests, which stop the daemons in order
                env={**os.environ, **DAEMON_ENV},
            )
        self._save_state()
        started = time.monotonic()
        deadline = started + START_TIMEOUT
        while True:
            if engine.process.poll() is not None:
                raise LabError(
                    f"dockerd of {plan.name} exited {engine.process.returncode}:\n{engine.log_tail()}"
                )
            if plan.socket.exists():
                try:
                    client = docker.DockerClient(base_url=engine.url, timeout=60)
                    break
                except docker.errors.DockerException:  # listening, not answering yet
                    pass
            if time.monotonic() > deadline:
                raise LabError(
                    f"dockerd of {plan.name} did not answer in {START_TIMEOUT}s:\n{engine.log_tail()}"
                )
            time.sleep(0.05)
        engine.client = client
        pidfile = plan.exec_root / "containerd" / "containerd.pid"
        with contextlib.suppress(OSError, ValueError):
            engine.containerd_pid = int(pidfile.read_text().strip())
        self._save_state()
        up = time.monotonic()
        if image_tar is not None:
            client.images.load(image_tar)
        with self._state_lock:
            self.timings[f"{plan.name}.answering"] = up - started
            self.timings[f"{plan.name}.image"] = time.monotonic() - up

    def _stop_engine(self, engine: LabEngine) -> None:
        """Kill the containers first (a PID 1 that ignores SIGTERM holds dockerd's shutdown
        for 10 s each), then SIGTERM; a daemon that hangs is killed and left to ``destroy``."""
        proc = engine.process
        if engine.client is not None:
            if proc is not None and proc.poll() is None:
                # A wedged daemon is killed below anyway; a container may exit meanwhile.
                with contextlib.suppress(Exception):
                    if engine.client.info()["Swarm"].get("ControlAvailable"):
                        for service in engine.client.api.services():  # else tasks come back
                            engine.client.api.remove_service(service["ID"])
                    for container in engine.client.api.containers():
                        with contextlib.suppress(docker.errors.APIError):
                            engine.client.api.kill(container["Id"])
            engine.client.close()
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)

    # --- using ----------------------------------------------------------------------------

    def netns(self, name: str) -> str:
        """The namespace of an engine, an outside host, or ``lan`` (the bridge's)."""
        if name in self.engines:
            return self.engines[name].netns
        if name in self.hosts:
            return self.hosts[name].netns
        if name == "lan":
            return self.plan.lan_netns
        if name == "router" and self.plan.router_netns:
            return self.plan.router_netns
        raise LabError(f"no lab engine or host called {name!r}")

    def address(self, name: str) -> str:
        """The LAN address of an engine or outside host."""
        if name in self.engines:
            return self.engines[name].lan_ip
        if name in self.hosts:
            return self.hosts[name].lan_ip
        raise LabError(f"no lab engine or host called {name!r}")

    def run(
        self,
        name: str,
        argv: Sequence[str],
        *,
        check: bool = True,
        timeout: float = 60,
        input: str | None = None,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run a command in the network namespace of an engine or outside host."""
        return system.run_in(self.netns(name), argv, check=check, timeout=timeout, input=input, env=env)

    def spawn(self, name: str, argv: Sequence[str]) -> subprocess.Popen[str]:
        """Start a long-running command (a server) in a lab namespace; stopped by ``close``."""
        proc = subprocess.Popen(
            system.nsenter_argv(self.netns(name), argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self._spawned.append(proc)
        return proc

    def probe(
        self,
        name: str,
        address: str,
        port: int,
        proto: str = "tcp",
        *,
        timeout: float = 0.3,
        banner: bool = False,
    ) -> ProbeResult:
        """Real packets from ``name`` to ``address:port`` (see ``probe.Outcome``)."""
        return self.probe_many(name, [Target(address, port, proto)], timeout=timeout, banner=banner)[0]

    def probe_many(
        self, name: str, targets: Iterable[Target], *, timeout: float = 0.3, banner: bool = False
    ) -> list[ProbeResult]:
        wanted = list(targets)
        return system.call_in_netns(self.netns(name), lambda: probe_all(wanted, timeout, banner=banner))

    def container_pid(self, engine: str, container: str) -> int:
        """The main process of a container of a lab engine (its network namespace is the
        container's)."""
        state = self.engines[engine].client.api.inspect_container(container)["State"]
        if not state.get("Running") or not state.get("Pid"):
            raise LabError(f"container {container} of {engine} is not running")
        return int(state["Pid"])

    def probe_from_container(
        self,
        engine: str,
        container: str,
        targets: Iterable[Target],
        *,
        timeout: float = 0.3,
        banner: bool = False,
    ) -> list[ProbeResult]:
        """Real packets from inside a container of a lab engine (its own network namespace)."""
        wanted = list(targets)
        pid = self.container_pid(engine, container)
        return system.call_in_pid_netns(pid, lambda: probe_all(wanted, timeout, banner=banner))

    def probe_each(
        self,
        plan: dict[str | tuple[str, str], list[Target]],
        *,
        timeout: float = 0.3,
        retry_timeout: float = 1.0,
        banner: bool = False,
        banner_wait: float | None = None,
        request: bytes | None = None,
    ) -> dict[str | tuple[str, str], list[ProbeResult]]:
        """Probe from several sources at once: a lab namespace name, or (engine, container).
        Each source probes on its own thread, so a round costs its slowest source's time.
        ``banner_wait``: how long a connected socket may take to answer; ``request``: what
        it sends first (``probe.probe_all``)."""

        def one(source: str | tuple[str, str]) -> list[ProbeResult]:
            wanted = plan[source]

            def job() -> list[ProbeResult]:
                return probe_all(
                    wanted, timeout, retry_timeout, banner=banner, banner_wait=banner_wait, request=request
                )

            if isinstance(source, tuple):
                return system.call_in_pid_netns(self.container_pid(*source), job)
            return system.call_in_netns(self.netns(source), job)

        with ThreadPoolExecutor(max_workers=max(1, len(plan))) as pool:
            results = list(pool.map(one, list(plan)))
        return dict(zip(plan, results, strict=True))

    def wait_probe(
        self,
        name: str,
        address: str,
        port: int,
        proto: str = "tcp",
        *,
        want: Outcome = Outcome.OPEN,
        timeout: float = 10.0,
        banner: bool = False,
    ) -> ProbeResult:
        """Probe until the outcome is ``want`` (a server starting up) or time runs out; the
        last result either way, for the caller to assert on."""
        deadline = time.monotonic() + timeout
        while True:
            result = self.probe(name, address, port, proto, banner=banner)
            if result.outcome is want or time.monotonic() > deadline:
                return result
            time.sleep(0.1)

    def add_route(self, name: str, destination: str, via: str) -> None:
        """Route ``destination`` through ``via`` (an engine/host name or an address)."""
        gateway = self.address(via) if (via in self.engines or via in self.hosts) else via
        net = ipaddress.ip_network(destination, strict=False)
        if not inside_lab_space(str(net.network_address)) or not inside_lab_space(gateway):
            raise LabError(f"routes stay inside the lab's address space: {destination} via {gateway}")
        system.ip("-n", self.netns(name), "route", "replace", str(net), "via", gateway)

    @contextlib.contextmanager
    def loopback_via(self, name: str, engine: str) -> Iterator[None]:
        """Make ``name`` send 127.0.0.1 out of its LAN interface to ``engine``'s MAC address,
        as a neighbour on the engine's L2 segment can (moby 41872/45610); restored afterwards.

        The host loses its own loopback meanwhile (its 127.0.0.1 is removed and lo is down).
        """
        netns = self.netns(name)
        if name not in self.hosts:
            raise LabError(f"only an outside host gives up its loopback, not {name!r}")
        for key in ("all", "eth0"):
            system.sysctl_write(netns, f"net.ipv4.conf.{key}.route_localnet", "1")
        system.ip("-n", netns, "link", "set", "lo", "down")
        system.ip("-n", netns, "addr", "del", "127.0.0.1/8", "dev", "lo")
        system.ip("-n", netns, "route", "replace", "127.0.0.1/32", "via", self.address(engine), "dev", "eth0")
        try:
            yield
        finally:
            system.ip("-n", netns, "route", "del", "127.0.0.1/32")
            system.ip("-n", netns, "addr", "add", "127.0.0.1/8", "dev", "lo")
            system.ip("-n", netns, "link", "set", "lo", "up")
            for key in ("all", "eth0"):
                system.sysctl_write(netns, f"net.ipv4.conf.{key}.route_localnet", "0")

    def route_to_network(self, name: str, engine: str, network: str = "bridge") -> str:
        """Route an engine's Docker network subnet via that engine ("direct routing")."""
        attrs = self.engines[engine].client.networks.get(network).attrs
        subnet = next(c["Subnet"] for c in attrs["IPAM"]["Config"] if ":" not in c["Subnet"])
        self.add_route(name, subnet, engine)
        return subnet

    def iptables(self, name: str, *args: str, ipv6: bool = False) -> str:
        """``iptables ARGS`` inside a lab namespace (e.g. a DOCKER-USER rule on an engine)."""
        return self.run(name, ["ip6tables" if ipv6 else "iptables", "-w", *args]).stdout

    def iptables_save(self, name: str, ipv6: bool = False) -> str:
        return self.run(name, ["ip6tables-save" if ipv6 else "iptables-save"]).stdout

    def sysctl(self, name: str, key: str) -> str:
        return self.run(name, ["sysctl", "-n", key]).stdout.strip()

    def create_macvlan(self, engine: str, network: str, **kwargs: Any) -> Any:
        """A macvlan network on the engine's lab parent, in the engine's own slice of the LAN."""
        mv = self.engines[engine].macvlan
        if mv is None:
            raise LabError(f"engine {engine} was not given a macvlan parent")
        pool = docker.types.IPAMPool(subnet=mv.subnet, iprange=mv.ip_range, gateway=mv.gateway)
        return self.engines[engine].client.networks.create(
            network,
            driver="macvlan",
            options={"parent": mv.parent},
            ipam=docker.types.IPAMConfig(pool_configs=[pool]),
            **kwargs,
        )

    def form_swarm(
        self, managers: Sequence[str] = ("e1",), workers: Sequence[str] = (), timeout: float = 60
    ) -> Swarm:
        """Init a swarm on the first manager's LAN address; join the others; wait until Ready."""
        first = self.engines[managers[0]]
        first.client.swarm.init(
            advertise_addr=first.lan_ip,
            listen_addr=f"{first.lan_ip}:2377",
            default_addr_pool=[str(SWARM_POOL)],
            subnet_size=24,
        )
        tokens = first.client.swarm.attrs["JoinTokens"]
        for role, names in (("Manager", managers[1:]), ("Worker", workers)):
            for name in names:
                eng = self.engines[name]
                eng.client.swarm.join(
                    remote_addrs=[f"{first.lan_ip}:2377"],
                    join_token=tokens[role],
                    advertise_addr=eng.lan_ip,
                    listen_addr=f"{eng.lan_ip}:2377",
                )
        wanted = {*managers, *workers}
        deadline = time.monotonic() + timeout
        while True:
            nodes = first.client.nodes.list()
            ready = {
                n.attrs["Description"]["Hostname"]: n.id
                for n in nodes
                if n.attrs["Status"]["State"] == "ready"
            }
            if wanted <= set(ready):
                break
            if time.monotonic() > deadline:
                raise LabError(f"swarm nodes not ready after {timeout}s: {sorted(ready)} of {sorted(wanted)}")
            time.sleep(0.2)
        self.swarm = Swarm(managers[0], tuple(managers), tuple(workers), {n: ready[n] for n in wanted})
        return self.swarm

    def create_service(self, engine: str, command: Sequence[str], **kwargs: Any) -> Any:
        """A swarm service from the lab image. Nothing asks a registry: the SDK speaks API
        1.41, where the daemon no longer resolves digests on create, and the daemons run with
        DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1, so tasks use the loaded image without a pull."""
        image = kwargs.pop("image", self.image)
        return self.engines[engine].client.services.create(image, list(command), **kwargs)
