"""A throwaway Docker engine in its own network namespace, with an outside "LAN" host.

Used to capture real firewall dumps for ``tests/fixtures/netfilter/`` and to check the
exposure model against real packets. Everything is named ``audexp-<pid>-...``: the two
network namespaces (the Docker host and one LAN host joined by a veth pair, both ends
renamed ``eth0``), and ``/tmp/audexp-<pid>-<tag>`` holding the engine's data root, exec root,
socket and pid file. ``close()`` (also on failure, via the context manager) stops the engine
and removes all of it; ``remove_stale()`` removes what a killed run of a dead process left.

Addresses (all from 198.18.0.0/15 and the IPv6 benchmarking range 2001:2::/48):
Docker host eth0 198.18.0.1/24 and 2001:2:0:1::1/64, LAN host eth0 198.18.0.2/24 and
2001:2:0:1::2/64 plus 198.19.200.2/32 (an "internet" source outside every local subnet).
The LAN host routes everything via the Docker host (so it reaches the Docker subnets by
direct routing); the Docker host's default route points at the LAN host.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors
from auditor.benchmarks.image import build_busybox_image

PREFIX = "audexp-"
NETNS_DIR = Path("/var/run/netns")
IMAGE = "audexp/busybox:1"
HOST_V4, LAN_V4, INTERNET_V4 = "198.18.0.1", "198.18.0.2", "198.19.200.2"
HOST_V6, LAN_V6 = "2001:2:0:1::1", "2001:2:0:1::2"
BASE_ARGS = (
    "--bip",
    "198.18.16.1/24",
    "--default-address-pool",
    "base=198.18.32.0/19,size=24",
    "--storage-driver",
    "vfs",
)
CLONE_NEWNET = 0x40000000


def _sh(*cmd: str, netns: str | None = None, check: bool = True, input: str | None = None) -> str:
    full = ["nsenter", f"--net={NETNS_DIR / netns}", *cmd] if netns else list(cmd)
    proc = subprocess.run(full, capture_output=True, text=True, timeout=60, input=input, check=False)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(full)} failed: {proc.stderr.strip()}")
    return proc.stdout


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stop_pid(pid: int, timeout: float = 20.0) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _pid_alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _pids_in_netns(netns: str) -> list[int]:
    """Processes whose network namespace is the named one (dockerd, containerd, proxies)."""
    try:
        target = os.stat(NETNS_DIR / netns).st_ino
    except OSError:
        return []
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.stat(entry / "ns" / "net").st_ino == target:
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _remove_netns(netns: str) -> None:
    for pid in _pids_in_netns(netns):
        _stop_pid(pid, timeout=5)
    subprocess.run(["ip", "netns", "del", netns], capture_output=True, check=False)


def _unmount_below(directory: Path) -> None:
    """Mounts dockerd left below its exec root (a host-network container bind-mounts the
    namespace at ``x/netns/default``): lazily unmount them, deepest first."""
    try:
        lines = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return
    prefix = str(directory) + "/"
    points = [
        line.split()[1] for line in lines if len(line.split()) > 1 and line.split()[1].startswith(prefix)
    ]
    for point in sorted(points, key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True, check=False)


def remove_stale() -> None:
    """Remove namespaces and directories of earlier runs whose process has died."""
    names = [p.name for p in NETNS_DIR.glob(PREFIX + "*")] if NETNS_DIR.is_dir() else []
    dirs = list(Path("/tmp").glob(PREFIX + "*"))
    for name in names + [d.name for d in dirs]:
        try:
            owner = int(name.split("-")[1])
        except (IndexError, ValueError):
            continue
        if _pid_alive(owner):
            continue
        if (NETNS_DIR / name).exists():
            _remove_netns(name)
        if (Path("/tmp") / name).is_dir():
            pidfile = Path("/tmp") / name / "docker.pid"
            with contextlib.suppress(OSError, ValueError):
                _stop_pid(int(pidfile.read_text()))
            _unmount_below(Path("/tmp") / name)
            shutil.rmtree(Path("/tmp") / name, ignore_errors=True)


@dataclass(frozen=True)
class Probe:
    """The result of one TCP connection attempt: ``open`` or why not."""

    outcome: str  # open | refused | timeout | unreachable | error:<errno name>

    @property
    def reachable(self) -> bool:
        return self.outcome == "open"


def connect_from(ns_path: str, dst: str, port: int, src: str | None = None, timeout: float = 1.5) -> Probe:
    """Try a TCP connection from inside the network namespace at ``ns_path``.

    A forked child enters the namespace (setns) and connects, so a probe costs milliseconds,
    not a process start-up.
    """
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never returns
        code = "error:fork"
        try:
            os.close(read_fd)
            libc = ctypes.CDLL(None, use_errno=True)
            fd = os.open(ns_path, os.O_RDONLY)
            if libc.setns(fd, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns")
            family = socket.AF_INET6 if ":" in dst else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            if src:
                sock.bind((src, 0))
            try:
                sock.connect((dst, port))
                code = "open"
            except TimeoutError:
                code = "timeout"
            except ConnectionRefusedError:
                code = "refused"
            except OSError as exc:
                unreachable = (errno.EHOSTUNREACH, errno.ENETUNREACH)
                code = (
                    "unreachable"
                    if exc.errno in unreachable
                    else f"error:{errno.errorcode.get(exc.errno or 0)}"
                )
        except BaseException as exc:  # noqa: BLE001 - report anything to the parent
            code = f"error:{type(exc).__name__}"
        finally:
            os.write(write_fd, code.encode())
            os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        data = pipe.read().decode()
    os.waitpid(pid, 0)
    return Probe(data or "error:empty")


class NetnsEngine:
    """One dockerd in namespace ``audexp-<pid>-<tag>``, a LAN host in ``...-<tag>-lan``."""

    def __init__(self, tag: str, daemon_args: Sequence[str] = ()):
        self.tag = tag
        self.name = f"{PREFIX}{os.getpid()}-{tag}"
        self.lan = f"{self.name}-lan"
        self.dir = Path("/tmp") / self.name
        self.sock = self.dir / "docker.sock"
        self.daemon_args = tuple(daemon_args)
        self.process: subprocess.Popen | None = None
        self.client: docker.DockerClient | None = None

    # -- life cycle ---------------------------------------------------------------------
    def __enter__(self) -> NetnsEngine:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=False)
        for ns in (self.name, self.lan):
            _sh("ip", "netns", "add", ns)
        _sh(
            "ip",
            "-n",
            self.name,
            "link",
            "add",
            "eth0",
            "type",
            "veth",
            "peer",
            "name",
            "eth0",
            "netns",
            self.lan,
        )
        for ns, v4, v6 in ((self.name, HOST_V4, HOST_V6), (self.lan, LAN_V4, LAN_V6)):
            _sh("ip", "-n", ns, "link", "set", "lo", "up")
            _sh("ip", "-n", ns, "addr", "add", f"{v4}/24", "dev", "eth0")
            _sh("ip", "-n", ns, "addr", "add", f"{v6}/64", "dev", "eth0", "nodad")
            _sh("ip", "-n", ns, "link", "set", "eth0", "up")
        _sh("ip", "-n", self.lan, "addr", "add", f"{INTERNET_V4}/32", "dev", "lo")
        _sh("ip", "-n", self.lan, "route", "add", "default", "via", HOST_V4)
        _sh("ip", "-n", self.lan, "-6", "route", "add", "default", "via", HOST_V6)
        _sh("ip", "-n", self.name, "route", "add", "default", "via", LAN_V4)
        _sh("ip", "-n", self.name, "-6", "route", "add", "default", "via", LAN_V6)
        (self.dir / "daemon.json").write_text("{}\n")  # never the machine's /etc/docker/daemon.json
        cmd = [
            "nsenter",
            f"--net={NETNS_DIR / self.name}",
            "dockerd",
            "--config-file",
            str(self.dir / "daemon.json"),
            "--data-root",
            str(self.dir / "data"),
            "--exec-root",
            str(self.dir / "x"),
            "--pidfile",
            str(self.dir / "docker.pid"),
            "-H",
            f"unix://{self.sock}",
            *BASE_ARGS,
            *self.daemon_args,
        ]
        log = (self.dir / "dockerd.log").open("w")
        self.process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.client = docker.DockerClient(base_url=f"unix://{self.sock}", version="1.41", timeout=60)
        deadline = time.monotonic() + 60
        while True:
            try:
                self.client.ping()
                break
            except Exception:  # noqa: BLE001 - not up yet
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"dockerd in {self.name} did not start: {(self.dir / 'dockerd.log').read_text()[-2000:]}"
                    ) from None
                time.sleep(0.3)
        build_busybox_image(self.client, IMAGE, {"io.auditor.test": "1"})

    def close(self) -> None:
        if self.client is not None:
            with contextlib.suppress(Exception):
                for c in self.client.api.containers(all=True):
                    self.client.api.remove_container(c["Id"], force=True)
            self.client.close()
            self.client = None
        if self.process is not None:
            _stop_pid(self.process.pid)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=5)
            self.process = None
        _unmount_below(self.dir)
        for ns in (self.name, self.lan):
            if (NETNS_DIR / ns).exists():
                _remove_netns(ns)
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- acting in the namespaces -------------------------------------------------------
    def host(self, *cmd: str, check: bool = True, input: str | None = None) -> str:
        """Run a command in the Docker host's namespace."""
        return _sh(*cmd, netns=self.name, check=check, input=input)

    def iptables_restore(self, text: str, ipv6: bool = False) -> None:
        """Apply rules with ``--noflush`` (only the chains the text names are touched)."""
        self.host("ip6tables-restore" if ipv6 else "iptables-restore", "--noflush", input=text)

    def container(
        self,
        name: str,
        listen: Sequence[int] = (80,),
        publish: dict | None = None,
        network: str | None = None,
        network_mode: str | None = None,
    ):
        """A container listening (busybox httpd) on each port of ``listen``, all of them
        exposed (so the model knows them); ``publish`` maps "80/tcp" to a host port or
        (host ip, host port)."""
        assert self.client is not None
        api = self.client.api
        serve = "; ".join(f"httpd -p {p} -h /www" for p in listen)
        cmd = ["sh", "-c", f"mkdir -p /www; {serve}; exec sleep 3600"]
        host_config = api.create_host_config(
            port_bindings=publish or {}, network_mode=network_mode or network or "bridge"
        )
        created = api.create_container(
            IMAGE,
            cmd,
            name=name,
            ports=[int(p) for p in listen],
            host_config=host_config,
            labels={"io.auditor.test": "1"},
        )
        api.start(created["Id"])
        return created["Id"]

    def ns_path(self, where: str) -> str:
        """``host``, ``lan`` or a container name -> the path of its network namespace."""
        if where == "host":
            return str(NETNS_DIR / self.name)
        if where == "lan":
            return str(NETNS_DIR / self.lan)
        assert self.client is not None
        pid = self.client.api.inspect_container(where)["State"]["Pid"]
        return f"/proc/{pid}/ns/net"

    def probe(self, where: str, dst: str, port: int, src: str | None = None) -> Probe:
        return connect_from(self.ns_path(where), dst, port, src=src)

    # -- what the tests keep ------------------------------------------------------------
    def dumps(self) -> dict[str, str]:
        """The read-only dumps the exposure readers take, as they are on this engine's host."""
        out = {
            "iptables-save.txt": self.host("iptables-save"),
            "ip6tables-save.txt": self.host("ip6tables-save"),
            "nft.json": self.host("nft", "-j", "list", "ruleset"),
            "ip-addr.json": self.host("ip", "-j", "addr"),
            "ip-route.json": self.host("ip", "-j", "route"),
            "ip6-route.json": self.host("ip", "-6", "-j", "route"),
            "sysctl.txt": self._reader("read_sysctls()"),
            "docker-proxy.txt": self._reader("read_docker_proxies()"),
            "ss-listen.txt": self.host("ss", "-Hltnup"),
        }
        return out

    def _reader(self, call: str) -> str:
        """Run one of auditor.exposure.facts' readers inside the host namespace."""
        code = f"import sys; from auditor.exposure.facts import *; sys.stdout.write({call} or '')"
        return self.host(sys.executable, "-c", code)

    def inspect(self) -> tuple[list[dict], list[dict]]:
        assert self.client is not None
        containers = [
            self.client.api.inspect_container(c["Id"]) for c in self.client.api.containers(all=True)
        ]
        networks = [self.client.api.inspect_network(n["Id"]) for n in self.client.api.networks()]
        return containers, networks


def ensure_root_tools() -> str | None:
    """Why a lab cannot run here, or ``None`` when it can."""
    if os.geteuid() != 0:
        return "needs root"
    for tool in ("dockerd", "nsenter", "ip", "iptables-save", "nft"):
        if shutil.which(tool) is None:
            return f"{tool} not installed"
    return None


@contextlib.contextmanager
def lab(tag: str, daemon_args: Sequence[str] = ()) -> Iterator[NetnsEngine]:
    remove_stale()
    with NetnsEngine(tag, daemon_args) as engine:
        yield engine


def dump_json(obj: object) -> str:
    return json.dumps(obj, indent=1, sort_keys=True) + "\n"
