"""The run's containers, networks, image and server processes, always removed afterwards.

``BenchEnvironment`` is a context manager: whatever it created is removed on exit, on errors,
on Ctrl-C and (through the command's signal handler) on SIGTERM. Every object is labelled with
the run id and the creating pid, so ``cleanup_leftovers`` can remove what a killed run left
without touching objects of runs that are still alive, or anything not created by a benchmark.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import docker
import docker.errors

from auditor.model.errors import InputError

from . import procfs
from .image import build_image
from .settings import Capabilities, Options

LABEL = "io.auditor.bench"
RUN_LABEL = "io.auditor.bench.run"
PID_LABEL = "io.auditor.bench.pid"
ENV_MARKER = "AUDITOR_BENCH_PID"

IPERF_PORT = 5201
SOCKPERF_PORT = 11111
CONN_PORT = 12865
READY_TIMEOUT = 30.0
SETTLE_AFTER_INTERRUPTED_BUILD = 15.0


def new_run_id() -> str:
    return uuid.uuid4().hex[:10]


def labels(run_id: str) -> dict[str, str]:
    return {LABEL: "1", RUN_LABEL: run_id, PID_LABEL: str(os.getpid())}


def die_with_parent() -> None:
    """Child-process hook: the kernel kills the child when the benchmark process dies."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def marked_env() -> dict[str, str]:
    """The environment of every host process the run starts, marked for ``--cleanup``."""
    return {**os.environ, ENV_MARKER: str(os.getpid())}


def in_netns(netns: str | None, argv: list[str]) -> list[str]:
    """Run ``argv`` in a network namespace (a /proc/PID/ns/net path), or on the host."""
    return ["nsenter", f"--net={netns}", "--", *argv] if netns else argv


@dataclass
class Servers:
    """Host pids of the server processes of one namespace, for CPU accounting."""

    iperf3: int | None = None
    sockperf: int | None = None
    connrate: int | None = None


@dataclass
class Route:
    """How one mode is measured: client namespace, address, ports, server pids."""

    mode: str
    netns: str | None  # client's network namespace; None = the host's
    address: str
    iperf_port: int
    sockperf_port: int
    conn_port: int
    servers: Servers
    published: dict[str, tuple[str, int]] = field(default_factory=dict)  # tool -> (host ip, port)


class BenchError(Exception):
    """The environment could not be set up (one line for the user)."""


def capabilities(client: Any) -> Capabilities:
    """What this host allows, read from the engine and the local system."""
    import shutil

    missing = tuple(t for t in ("iperf3", "sockperf", "nsenter") if not shutil.which(t))
    gateway = None
    with contextlib.suppress(docker.errors.APIError, KeyError, IndexError, TypeError):
        for cfg in client.api.inspect_network("bridge")["IPAM"]["Config"] or []:
            if cfg.get("Gateway") and ":" not in cfg["Gateway"]:
                gateway = cfg["Gateway"]
                break
    if gateway is None:
        gateway = _bridge_address(client)
    info = client.info()
    swarm = info.get("Swarm") or {}
    return Capabilities(
        root=os.geteuid() == 0,
        nsenter=bool(shutil.which("nsenter")),
        engine_local=_engine_is_local(client),
        tools_missing=tuple(t for t in missing if t != "nsenter"),
        gateway_ip=gateway,
        swarm_active=swarm.get("LocalNodeState") == "active",
        swarm_manager=bool(swarm.get("ControlAvailable")),
    )


def _bridge_address(client: Any) -> str | None:
    """The default bridge's IPv4 address on the host (engines before 23 omit it from IPAM)."""
    name = "docker0"
    with contextlib.suppress(docker.errors.APIError, KeyError, TypeError):
        name = (client.api.inspect_network("bridge").get("Options") or {}).get(
            "com.docker.network.bridge.name", name
        )
    try:
        proc = subprocess.run(
            ["ip", "-o", "-4", "addr", "show", "dev", name],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    for line in proc.stdout.splitlines():
        parts = line.split()
        if "inet" in parts:
            return parts[parts.index("inet") + 1].split("/")[0]
    return None


def _engine_is_local(client: Any) -> bool:
    base = str(getattr(client.api, "base_url", ""))
    return base.startswith(("http+unix://", "http+docker://localunixsocket")) or "localhost" in base


Setup = Callable[["BenchEnvironment"], Route]
T = TypeVar("T")
SETUP_ERRORS = (docker.errors.APIError, BenchError, OSError, subprocess.SubprocessError)


class BenchEnvironment:
    """The run's workshop: builds the tools image, sets up each mode's route, removes it all.

    ``set_up(name, setup)`` calls one mode's set-up function (``modes.py``) with this object,
    which offers the pieces a route is made of: host server processes, server and client
    containers, networks, and ``shared`` for what several modes use together. ``routes`` maps
    each ready mode to its Route; ``failures`` holds the one-line reason of each mode that is not.
    """

    def __init__(
        self,
        client: Any,
        run_id: str,
        opts: Options,
        caps: Capabilities,
        log: Callable[[str], None] | None = None,
        needs_image: bool = True,
    ):
        self.client = client
        self.run_id = run_id
        self.options = opts
        self.gateway_ip = caps.gateway_ip
        self.needs_image = needs_image
        self.log = log or (lambda _msg: None)
        self.image: str | None = None
        self.built_image: str | None = None
        self.containers: list[Any] = []
        self.networks: list[Any] = []
        self.processes: list[subprocess.Popen[bytes]] = []
        self.routes: dict[str, Route] = {}
        self.failures: dict[str, str] = {}
        self._shared: dict[str, object] = {}
        self._closed = False

    # -- context manager -------------------------------------------------------------------
    def __enter__(self) -> BenchEnvironment:
        try:
            self._prepare_image()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Remove everything this run created; safe to call twice; not interruptible."""
        if self._closed:
            return
        self._closed = True
        previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
        in_main = _main_thread()
        if in_main:
            for s in previous:
                signal.signal(s, signal.SIG_IGN)
        try:
            for proc in self.processes:
                with contextlib.suppress(OSError):
                    proc.kill()
                with contextlib.suppress(Exception):
                    proc.wait(timeout=5)
            # by label, not by handle: a create or build interrupted mid-call leaves objects the
            # daemon finishes after we stopped waiting; sweep until a sweep finds nothing
            label = f"{RUN_LABEL}={self.run_id}"
            build_interrupted = self.built_image is not None and self.image is None
            deadline = time.monotonic() + (SETTLE_AFTER_INTERRUPTED_BUILD if build_interrupted else 0)
            quiet = 0
            while True:
                found = remove_labelled(self.client, label)
                quiet = quiet + 1 if found == (0, 0, 0) else 0
                if time.monotonic() >= deadline or quiet >= 2:
                    break
                time.sleep(0.5)
        finally:
            if in_main:
                for s, handler in previous.items():
                    signal.signal(s, handler)

    # -- set-up ------------------------------------------------------------------------------
    def name(self, role: str) -> str:
        return f"auditor-bench-{self.run_id}-{role}"

    def _prepare_image(self) -> None:
        user_image = self.options.image
        if user_image:
            try:
                self.client.images.get(user_image)
            except docker.errors.ImageNotFound:
                raise InputError(
                    f"--image {user_image!r} is not on this engine (bench never pulls)"
                ) from None
            self.image = user_image
        elif self.needs_image:
            self.log("building the tools image from this host's iperf3, sockperf and busybox")
            tag = f"auditor-bench/tools:{self.run_id}"
            self.built_image = tag  # recorded first, so a failed or interrupted build is removed too
            self.image = build_image(self.client, tag, labels(self.run_id))

    def set_up(self, mode: str, setup: Setup) -> None:
        """Set up one mode's route; a failure is recorded as that mode's and the run goes on."""
        try:
            self.routes[mode] = setup(self)
        except SETUP_ERRORS as exc:
            self.failures[mode] = _one_line(exc)

    def shared(self, key: str, make: Callable[[], T]) -> T:
        """What several modes set up together (one server container), made once per run.

        A failure is kept too: every mode that needs the piece fails with the same reason.
        """
        if key not in self._shared:
            try:
                self._shared[key] = make()
            except SETUP_ERRORS as exc:
                self._shared[key] = BenchError(_one_line(exc))
        value = self._shared[key]
        if isinstance(value, BenchError):
            raise value
        return cast(T, value)  # stored by this method under this key

    def spawn(self, argv: list[str]) -> subprocess.Popen[bytes]:
        """A host process of this run (killed at close, and with this process)."""
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=marked_env(),
            preexec_fn=die_with_parent,
        )  # noqa: PLW1509
        self.processes.append(proc)
        return proc

    def connrate_server(self, netns: str | None, port: int, bind: str = "0.0.0.0") -> int:  # noqa: S104
        argv = [
            sys.executable,
            "-m",
            "auditor.benchmarks.connrate",
            "serve",
            "--port",
            str(port),
            "--bind",
            bind,
        ]
        proc = self.spawn(in_netns(netns, argv))
        return proc.pid

    def server_container(
        self,
        role: str,
        listen: tuple[int, int] = (IPERF_PORT, SOCKPERF_PORT),
        bind: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """A container running the iperf3 and sockperf servers."""
        bind_iperf = f" -B {bind}" if bind else ""
        bind_sockperf = f" -i {bind}" if bind else ""
        script = (
            f"iperf3 -s -p {listen[0]}{bind_iperf} & "
            f"sockperf server --tcp -p {listen[1]}{bind_sockperf} & wait"
        )
        return self.container(role, ["sh", "-c", script], **kwargs)

    def container(self, role: str, command: list[str], **kwargs: Any) -> Any:
        """A running container of this run's image (``containers.run`` keyword arguments)."""
        container = self.client.containers.run(
            self.image, command, name=self.name(role), labels=labels(self.run_id), detach=True, **kwargs
        )
        self.containers.append(container)
        container.reload()
        if not container.attrs["State"].get("Running"):
            raise BenchError(
                f"container {role} exited at start: {container.logs(tail=5).decode(errors='replace').strip()}"
            )
        return container

    def servers_of(self, container: Any, conn_pid: int | None) -> Servers:
        """Host pids of the servers inside ``container`` (for CPU accounting)."""
        pid = int(container.attrs["State"]["Pid"])
        if not os.path.exists(f"/proc/{pid}/ns/net"):
            raise BenchError(
                "the engine's containers are not visible in this machine's /proc (remote engine?)"
            )
        deadline = time.monotonic() + READY_TIMEOUT
        iperf = sockperf = None
        while time.monotonic() < deadline and not (iperf and sockperf):
            iperf = iperf or procfs.find_descendant(pid, "iperf3")
            sockperf = sockperf or procfs.find_descendant(pid, "sockperf")
            time.sleep(0.05)
        return Servers(iperf, sockperf, conn_pid)

    def namespace_servers(
        self,
        container: Any,
        ports: tuple[int, int, int] = (IPERF_PORT, SOCKPERF_PORT, CONN_PORT),
        start_conn: bool = True,
    ) -> tuple[str, Servers]:
        """The servers of a server container plus a connection-rate server in its namespace, listening."""
        pid = int(container.attrs["State"]["Pid"])
        netns = f"/proc/{pid}/ns/net"
        conn = self.connrate_server(netns, ports[2]) if start_conn else None
        servers = self.servers_of(container, conn)
        wait_listening(pid, list(ports), f"servers in {container.name}")
        return netns, servers

    def pair_on_network(
        self, mode: str, driver: str, options: dict[str, str | None], attachable: bool = False
    ) -> Route:
        """A new network of ``driver`` with a server and a client container on it."""
        network = self.client.networks.create(
            self.name(mode),
            driver=driver,
            options=options,
            labels=labels(self.run_id),
            attachable=attachable or None,
        )
        self.networks.append(network)
        server = self.server_container(f"{mode}-server", network=network.name)
        _, servers = self.namespace_servers(server)
        client = self.container(f"{mode}-client", ["sleep", "86400"], network=network.name)
        address = server.attrs["NetworkSettings"]["Networks"][network.name]["IPAddress"]
        return Route(mode, netns_of(client), address, IPERF_PORT, SOCKPERF_PORT, CONN_PORT, servers)

    def network_mtus(self) -> tuple[tuple[str, int | None], ...]:
        """MTU of each network this run created (bridge networks have a br-<id> interface)."""
        from .hostinfo import mtu

        out = []
        for net in self.networks:
            iface = (net.attrs.get("Options") or {}).get(
                "com.docker.network.bridge.name"
            ) or f"br-{net.id[:12]}"
            out.append((str(net.name), mtu(iface)))
        return tuple(out)


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def netns_of(container: Any) -> str:
    """The network namespace of a running container, as a /proc path for ``nsenter``."""
    return f"/proc/{int(container.attrs['State']['Pid'])}/ns/net"


def host_port(ports: dict[str, Any], key: str, host_ip: str) -> int | None:
    """The host port the engine published ``key`` (``5201/tcp``) on at ``host_ip``."""
    for binding in ports.get(key) or []:
        if binding.get("HostIp") == host_ip and binding.get("HostPort"):
            return int(binding["HostPort"])
    return None


def wait_listening(pid: int, ports: list[int], what: str) -> None:
    """Wait until the network namespace of ``pid`` listens on every port."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if all(procfs.listening(pid, p) for p in ports):
            return
        time.sleep(0.05)
    raise BenchError(f"{what} did not start listening within {READY_TIMEOUT:.0f}s")


def _one_line(exc: BaseException) -> str:
    text = getattr(exc, "explanation", None) or str(exc)
    return " ".join(str(text).split())[:300]


# -- leftovers of killed runs -----------------------------------------------------------------
@dataclass
class CleanupReport:
    containers: int = 0
    networks: int = 0
    images: int = 0
    processes: int = 0
    kept_alive_runs: set[str] = field(default_factory=set)


Labels = dict[str, str] | None


def _keep_none(_labels: Labels) -> bool:
    return False


def remove_labelled(
    client: Any, label: str, keep: Callable[[Labels], bool] = _keep_none
) -> tuple[int, int, int]:
    """Remove containers, then networks, then images carrying ``label`` (``key=value``).

    Uses the list endpoints only (no per-object inspect), so objects that vanish meanwhile
    (another clean-up running at the same time) are no error. Returns the counts removed.
    """
    removed = [0, 0, 0]

    def containers() -> None:
        for c in client.api.containers(all=True, filters={"label": [label]}):
            if keep(c.get("Labels")):
                continue
            try:
                client.api.remove_container(c["Id"], force=True, v=True)
            except docker.errors.NotFound:
                continue
            except docker.errors.APIError as exc:
                if exc.status_code != 409:
                    raise
                # "removal already in progress" (an interrupted earlier call): count it, so the
                # caller's sweep comes back until the container is really gone
            removed[0] += 1

    containers()
    for n in client.api.networks(filters={"label": [label]}):
        if keep(n.get("Labels")):
            continue
        for attempt in range(20):  # a container created meanwhile may still hold an endpoint
            try:
                client.api.remove_network(n["Id"])
                removed[1] += 1
                break
            except docker.errors.NotFound:
                break
            except docker.errors.APIError:
                if attempt == 19:
                    raise
                time.sleep(0.25)
                containers()
    images = client.api.images(all=True, filters={"label": [label]})
    for img in sorted(images, key=lambda i: not [t for t in i.get("RepoTags") or [] if t != "<none>:<none>"]):
        if keep(img.get("Labels")):
            continue
        with contextlib.suppress(docker.errors.ImageNotFound, docker.errors.NotFound, docker.errors.APIError):
            client.api.remove_image(img["Id"], force=True)
            removed[2] += 1
    return removed[0], removed[1], removed[2]


def _is_leftover(obj_labels: Labels) -> bool:
    pid = (obj_labels or {}).get(PID_LABEL, "")
    return not (pid.isdigit() and procfs.pid_alive(int(pid)) and int(pid) != 0)


def cleanup_leftovers(client: Any) -> CleanupReport:
    """Remove benchmark objects whose creating process is gone; keep those of live runs."""
    report = CleanupReport()
    for c in client.api.containers(all=True, filters={"label": [LABEL]}):
        if not _is_leftover(c.get("Labels")):
            report.kept_alive_runs.add((c.get("Labels") or {}).get(RUN_LABEL, "?"))
    counts = remove_labelled(client, LABEL, keep=lambda labels: not _is_leftover(labels))
    report.containers, report.networks, report.images = counts
    report.processes = _kill_orphan_processes()
    return report


def _kill_orphan_processes() -> int:
    """Kill host processes a dead run started (marked in their environment)."""
    killed = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        try:
            with open(f"/proc/{pid}/environ", "rb") as fh:
                env = fh.read().split(b"\0")
        except OSError:
            continue
        owner = next((v.split(b"=", 1)[1] for v in env if v.startswith(ENV_MARKER.encode() + b"=")), None)
        if owner and owner.isdigit() and not procfs.pid_alive(int(owner)) and pid != os.getpid():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
                killed += 1
    return killed
