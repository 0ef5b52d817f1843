"""Which dockerd serves an engine address, and what it runs with (read-only, from ``/proc``).

A machine can run several daemons (rootless beside rootful, CI runners, test rigs, each in its
own network namespace). The facts the API does not give (command line, daemon.json, firewall
rules) must come from the daemon behind *the scanned socket*, not from the first ``dockerd``
in the process list. This module finds that daemon:

- unix socket: every network namespace's ``/proc/PID/net/unix`` lists its listening sockets
  with their inode and bound path; a listener is the one asked for when its path, seen from a
  holder's root (``/proc/PID/root``), is the same file as the address (so symlinks such as
  /var/run -> /run, bind mounts and daemons in other mount namespaces resolve); the processes
  holding that inode in ``/proc/PID/fd`` are its servers. With systemd socket activation pid 1
  holds it too, with a socket proxy only the proxy does: then the engine's settings stay
  unknown rather than being read from the wrong process.
- TCP address: a ``LISTEN`` socket on that port in ``/proc/PID/net/tcp{,6}``, on that address
  or a wildcard in a namespace that owns the address (``fib_trie`` / ``if_inet6``); a loopback
  address can only mean the scanner's own namespace.

Then the daemon's command line, its config file (``--config-file``, else /etc/docker/daemon.json,
or ``$XDG_CONFIG_HOME/docker/daemon.json`` for a rootless daemon), read through the daemon's
own root, and its network namespace (``/proc/PID/ns/net``, with its ``ip netns`` name if it has
one), so the firewall can be read where that daemon programs it:
``nsenter --net=/proc/PID/ns/net iptables-save``. Parsers are pure functions.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from auditor.collectors.host_facts import DEFAULT_CONFIG, parse_dockerd_args
from auditor.model import inputs
from auditor.model.errors import InputError

SO_ACCEPTCON = 0x00010000  # /proc/net/unix Flags: a listening socket
UNREADABLE = "no visible process holds it (other processes' file descriptors need root to read)"
TCP_LISTEN = "0A"


@dataclass(frozen=True)
class UnixListener:
    inode: int
    path: str


@dataclass(frozen=True)
class TcpListener:
    inode: int
    address: str
    port: int


@dataclass(frozen=True)
class Endpoint:
    kind: str  # "unix" or "tcp"
    path: str | None = None
    host: str | None = None
    port: int | None = None


@dataclass(frozen=True)
class DaemonProcess:
    """The dockerd behind an address. ``config_text`` is None when the file is absent
    (``config_present`` False: every setting has its default) or unreadable (None)."""

    pid: int
    argv: tuple[str, ...]
    exe: str | None
    config_file: str
    config_present: bool | None
    config_text: str | None
    netns_inode: int | None
    netns_name: str | None
    shares_scanner_netns: bool | None

    def nsenter_argv(self, argv: Iterable[str]) -> list[str]:
        """A command run in the daemon's network namespace (e.g. its ``iptables-save``)."""
        return ["nsenter", f"--net=/proc/{self.pid}/ns/net", "--", *argv]


@dataclass(frozen=True)
class DaemonLookup:
    endpoint: str
    daemon: DaemonProcess | None
    holders: tuple[tuple[int, str], ...]  # (pid, comm) of the dockerd processes holding the listener, or
    # of every process holding it when no dockerd does
    reason: str | None  # why ``daemon`` is None


# --- pure parsers --------------------------------------------------------------------------


def parse_endpoint(address: str) -> Endpoint:
    """``unix:///p``, a bare path, ``tcp://host:port`` (IPv6 in brackets); else ``ValueError``."""
    if address.startswith("unix://"):
        return Endpoint("unix", path=address[len("unix://") :])
    if address.startswith("/"):
        return Endpoint("unix", path=address)
    if address.startswith("tcp://"):
        rest = address[len("tcp://") :].split("/", 1)[0]
        match = re.fullmatch(r"\[([0-9a-fA-F:.]+)\]:(\d+)|([^:\[\]]+):(\d+)", rest)
        if not match:
            raise ValueError(f"not a tcp://host:port address: {address!r}")
        host = match.group(1) or match.group(3)
        return Endpoint("tcp", host=host, port=int(match.group(2) or match.group(4)))
    raise ValueError(f"unsupported engine address {address!r} (unix:// or tcp:// only)")


def parse_proc_net_unix(text: str) -> tuple[UnixListener, ...]:
    """Listening pathname sockets of one namespace (abstract and unbound ones are skipped)."""
    found = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 8 or not fields[7].startswith("/"):
            continue
        try:
            flags = int(fields[3], 16)
        except ValueError:
            continue
        if flags & SO_ACCEPTCON and fields[6].isdigit():
            found.append(UnixListener(int(fields[6]), " ".join(fields[7:])))
    return tuple(found)


def _hex_address(text: str) -> str:
    """``/proc/net/tcp`` addresses: 32-bit words in host (little-endian) byte order; an
    IPv4-mapped IPv6 address is given as the IPv4 address it accepts."""
    raw = bytes.fromhex(text)
    ip = ipaddress.ip_address(b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4)))
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    return str(mapped or ip)


def parse_proc_net_tcp(text: str) -> tuple[TcpListener, ...]:
    """``LISTEN`` sockets from ``/proc/net/tcp`` or ``tcp6``."""
    found = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 10 or fields[3] != TCP_LISTEN or ":" not in fields[1]:
            continue
        addr, port = fields[1].split(":")
        try:
            found.append(TcpListener(int(fields[9]), _hex_address(addr), int(port, 16)))
        except ValueError:
            continue
    return tuple(found)


def parse_fib_trie_local(text: str) -> frozenset[str]:
    """IPv4 addresses a namespace owns: ``/32 host LOCAL`` leaves of ``/proc/net/fib_trie``."""
    found = set()
    last = None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("|-- "):
            last = stripped[4:]
        elif stripped.startswith("/32 host LOCAL") and last:
            found.add(last)
    return frozenset(found)


def parse_if_inet6(text: str) -> frozenset[str]:
    """IPv6 addresses of a namespace from ``/proc/net/if_inet6``."""
    found = set()
    for line in text.splitlines():
        fields = line.split()
        if fields and re.fullmatch(r"[0-9a-fA-F]{32}", fields[0]):
            found.add(str(ipaddress.ip_address(bytes.fromhex(fields[0]))))
    return frozenset(found)


def parse_netns_link(link: str) -> int | None:
    match = re.fullmatch(r"net:\[(\d+)\]", link)
    return int(match.group(1)) if match else None


def config_path(argv: Iterable[str], environ: Mapping[str, str], uid: int | None) -> str:
    """The daemon.json this dockerd reads: ``--config-file``, else its default location.

    A rootless daemon (run under RootlessKit) looks in ``$XDG_CONFIG_HOME/docker``
    (``~/.config/docker``) instead of /etc/docker.
    """
    explicit = parse_dockerd_args(list(argv)).get("config-file")
    if explicit:
        return str(explicit)
    if "ROOTLESSKIT_STATE_DIR" in environ or (uid not in (None, 0)):
        home = environ.get("XDG_CONFIG_HOME") or os.path.join(environ.get("HOME", "~"), ".config")
        return os.path.join(home, "docker", "daemon.json")
    return DEFAULT_CONFIG


def listener_matches(listener: TcpListener, host: str, local: frozenset[str]) -> bool:
    """Whether a connection to ``host`` on the listener's port reaches this listener, given
    the addresses ``local`` to the listener's namespace. A ``::`` listener is dual-stack (Go
    listens on ``[::]`` for ``tcp://0.0.0.0``), ``0.0.0.0`` takes IPv4 only."""
    if listener.address == host:
        return True
    version = ipaddress.ip_address(host).version
    if listener.address == "::" or (listener.address == "0.0.0.0" and version == 4):
        return host in local or ipaddress.ip_address(host).is_loopback
    return False


# --- reading /proc --------------------------------------------------------------------------


def _read(path: Path) -> str | None:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return None


def _read_config(path: Path) -> str | None:
    """A daemon's config file: a regular file of bounded size (never a FIFO or a device)."""
    try:
        return inputs.read_bytes(path, "daemon config", inputs.CONFIG_LIMIT).decode(errors="replace")
    except InputError:
        return None


def _readlink(path: Path) -> str | None:
    try:
        return os.readlink(path)
    except OSError:
        return None


def _pids(proc: Path) -> list[int]:
    try:
        return sorted(int(p.name) for p in proc.iterdir() if p.name.isdigit())
    except OSError:
        return []


def _netns(proc: Path, pid: int | str) -> int | None:
    try:  # a plain string and os call: asked for every docker-proxy (~400 with 200 containers)
        link = os.readlink(f"{proc}/{pid}/ns/net")
    except OSError:
        return None
    return parse_netns_link(link)


# The scans below visit every process (and every open file of each): with 200 containers a
# host has ~900 processes and ~11,000 descriptors, so they use plain strings and os calls
# (a Path per descriptor cost ~0.1 s there) and read each process' comm once.


def _socket_holders(proc: Path, pids: list[int], inodes: set[int]) -> dict[int, list[int]]:
    holders: dict[int, list[int]] = {}
    root = str(proc)
    readlink, listdir = os.readlink, os.listdir
    for pid in pids:
        fd_dir = f"{root}/{pid}/fd/"
        try:
            fds = listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                link = readlink(fd_dir + fd)
            except OSError:
                continue
            if link.startswith("socket:[") and link.endswith("]"):
                inode = int(link[8:-1])
                if inode in inodes and pid not in holders.setdefault(inode, []):
                    holders[inode].append(pid)
    return holders


def _daemons_first(names: Mapping[int, str]) -> list[list[int]]:
    """The processes to search for a listener's holders, in two rounds: the dockerd processes,
    then every process. Only the second round reads every descriptor on the host (~11,000
    with 200 containers), and it is needed only when no dockerd holds the listener (a proxy,
    or nothing); it took ~0.5 s of a live scan, stalled by the threads inspecting containers.
    (No round is empty: without a dockerd there is only the second.)"""
    daemons = [pid for pid, name in names.items() if name == "dockerd"]
    return [daemons, list(names)] if daemons else [list(names)]


def _comm(proc: Path, pid: int) -> str:
    return _comm_at(str(proc), pid)


def _comm_at(root: str, pid: int) -> str:
    try:
        fd = os.open(f"{root}/{pid}/comm", os.O_RDONLY)
    except OSError:
        return "?"
    try:
        return os.read(fd, 64).decode(errors="replace").strip() or "?"
    except OSError:
        return "?"
    finally:
        os.close(fd)


def _same_path(a: str, b: str) -> bool:
    return os.path.normpath(a) == os.path.normpath(b)


def _same_file(a: Path, b: Path) -> bool:
    try:
        sa, sb = a.stat(), b.stat()
    except OSError:
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def _netns_name(inode: int | None, netns_dir: Path) -> str | None:
    if inode is None:
        return None
    try:
        entries = sorted(netns_dir.iterdir())
    except OSError:
        return None
    for entry in entries:
        try:
            if entry.stat().st_ino == inode:
                return entry.name
        except OSError:
            continue
    return None


def _environ_subset(proc: Path, pid: int) -> dict[str, str]:
    """Only the variables that choose the config path (never the whole environment)."""
    wanted = ("ROOTLESSKIT_STATE_DIR", "XDG_CONFIG_HOME", "HOME")
    try:
        raw = (proc / str(pid) / "environ").read_bytes()
    except OSError:
        return {}
    out = {}
    for item in raw.split(b"\0"):
        key, _, value = item.decode(errors="replace").partition("=")
        if key in wanted:
            out[key] = value
    return out


def _uid(proc: Path, pid: int) -> int | None:
    match = re.search(r"^Uid:\s+\d+\s+(\d+)", _read(proc / str(pid) / "status") or "", re.MULTILINE)
    return int(match.group(1)) if match else None


def read_daemon(
    pid: int, proc: Path = Path("/proc"), netns_dir: Path = Path("/var/run/netns")
) -> DaemonProcess:
    """Command line, config file (read through the daemon's root) and namespace of ``pid``."""
    base = proc / str(pid)
    argv = tuple(a for a in (_read(base / "cmdline") or "").split("\0") if a)
    path = config_path(argv, _environ_subset(proc, pid), _uid(proc, pid))
    seen_as = (base / "root" / path.lstrip("/")) if path.startswith("/") else (base / "cwd" / path)
    text = _read_config(seen_as)
    if text is not None:
        present: bool | None = True
    elif not seen_as.exists() and seen_as.parent.is_dir():
        present = False
    else:
        present = None
    inode = _netns(proc, pid)
    ours = _netns(proc, "self")
    return DaemonProcess(
        pid=pid,
        argv=argv,
        exe=_readlink(base / "exe"),
        config_file=path,
        config_present=present,
        config_text=text,
        netns_inode=inode,
        netns_name=_netns_name(inode, netns_dir),
        shares_scanner_netns=None if inode is None or ours is None else inode == ours,
    )


def netns_of(pid: int | str, proc: Path = Path("/proc")) -> int | None:
    """The network namespace (inode) of a process (``"self"`` for the scanner)."""
    return _netns(proc, pid)


def process_cmdline(pid: int, proc: Path = Path("/proc")) -> bytes | None:
    """A process' raw command line (NUL-separated), ``None`` when it cannot be read."""
    try:
        fd = os.open(f"{proc}/{pid}/cmdline", os.O_RDONLY)
    except OSError:
        return None
    try:
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


def process_names(proc: Path = Path("/proc")) -> dict[int, str]:
    """``comm`` of every process (pid -> name, ``?`` when unreadable), in pid order. One
    reading of the host's facts reads it once for all its searches (the daemon, docker-proxy,
    firewalld): with 200 containers each pass over ~900 processes cost ~25 ms."""
    root = str(proc)
    return {pid: _comm_at(root, pid) for pid in _pids(proc)}


def processes_named(
    comm: str, proc: Path = Path("/proc"), names: Mapping[int, str] | None = None
) -> tuple[tuple[int, int | None], ...]:
    """(pid, network namespace) of every process whose ``comm`` is ``comm`` (``names``: the
    ``process_names`` already read)."""
    names = process_names(proc) if names is None else names
    return tuple((pid, _netns(proc, pid)) for pid, name in names.items() if name == comm)


def _namespaces(proc: Path, pids: list[int]) -> dict[int, int]:
    """One reader pid per network namespace (inode -> pid)."""
    readers: dict[int, int] = {}
    root = str(proc)
    for pid in pids:
        try:
            inode = parse_netns_link(os.readlink(f"{root}/{pid}/ns/net"))
        except OSError:
            continue
        if inode is not None:
            readers.setdefault(inode, pid)
    return readers


def _unix_candidates(
    proc: Path, names: Mapping[int, str], path: str
) -> tuple[dict[int, list[int]], str | None]:
    """The listeners at ``path`` and their holders. Each round of ``_daemons_first`` reads the
    listeners of its own processes' network namespaces: a daemon's socket is listed in its
    namespace, so the first round reads a few files, not one per container (~200 here)."""
    target = Path(path)
    listeners: list[UnixListener] = []
    holders: dict[int, list[int]] = {}
    for searched in _daemons_first(names):
        listeners = []
        for reader in _namespaces(proc, searched).values():
            listeners += parse_proc_net_unix(_read(proc / str(reader) / "net" / "unix") or "")
        wanted = {entry.inode for entry in listeners}
        holders = _socket_holders(proc, searched, wanted)
        matching: dict[int, list[int]] = {}
        for entry in listeners:
            for pid in holders.get(entry.inode, []):
                seen = proc / str(pid) / "root" / entry.path.lstrip("/")
                if _same_file(seen, target) or _same_path(entry.path, path):
                    matching[entry.inode] = holders[entry.inode]
                    break
        if matching:
            return matching, None
    unowned = [e for e in listeners if e.inode not in holders]  # holders of the round over all
    ours = proc / "self" / "root"  # the path as the scanner sees it, with no holder to ask
    if any(_same_file(ours / e.path.lstrip("/"), target) or _same_path(e.path, path) for e in unowned):
        return {}, f"cannot tell which process serves {path}: {UNREADABLE}"
    return {}, f"no process listens on {path}"


def _tcp_candidates(
    proc: Path, names: Mapping[int, str], host: str, port: int
) -> tuple[dict[int, list[int]], str | None]:
    readers = _namespaces(proc, list(names))
    ours = _netns(proc, "self")
    loopback = ipaddress.ip_address(host).is_loopback
    matching: dict[int, int] = {}  # listener inode -> netns inode
    for ns, reader in readers.items():
        if loopback and ns != ours:
            continue  # 127.0.0.1 / ::1 always mean the scanner's own namespace
        net = proc / str(reader) / "net"
        listeners = parse_proc_net_tcp(_read(net / "tcp") or "") + parse_proc_net_tcp(
            _read(net / "tcp6") or ""
        )
        local = parse_fib_trie_local(_read(net / "fib_trie") or "") | parse_if_inet6(
            _read(net / "if_inet6") or ""
        )
        for listener in listeners:
            if listener.port == port and listener_matches(listener, host, local):
                matching[listener.inode] = ns
    if ours is not None and ours in matching.values():
        matching = {i: ns for i, ns in matching.items() if ns == ours}  # a local address stays local
    if len(set(matching.values())) > 1:
        return {}, f"{host}:{port} is local to {len(set(matching.values()))} network namespaces"
    holders: dict[int, list[int]] = {}
    for searched in _daemons_first(names) if matching else ():
        holders = _socket_holders(proc, searched, set(matching))
        if holders:
            break
    if not holders and matching:
        return {}, f"cannot tell which process listens on {host}:{port}: {UNREADABLE}"
    if not holders:
        return {}, f"no process listens on {host}:{port}"
    return holders, None


def find_daemon(
    address: str,
    proc: Path = Path("/proc"),
    netns_dir: Path = Path("/var/run/netns"),
    names: Mapping[int, str] | None = None,
) -> DaemonLookup:
    """The dockerd that serves ``address`` (``unix://``, a path or ``tcp://host:port``);
    ``names``: the ``process_names`` already read."""
    endpoint = parse_endpoint(address)
    names = process_names(proc) if names is None else names
    if endpoint.kind == "unix":
        inodes, reason = _unix_candidates(proc, names, str(endpoint.path))
    else:
        host = str(endpoint.host)
        try:
            ipaddress.ip_address(host)
        except ValueError:
            try:
                host = str(socket.getaddrinfo(host, endpoint.port, type=socket.SOCK_STREAM)[0][4][0])
            except OSError as exc:
                return DaemonLookup(address, None, (), f"cannot resolve {endpoint.host}: {exc}")
        inodes, reason = _tcp_candidates(proc, names, host, int(endpoint.port or 0))
    holder_pids = sorted({pid for group in inodes.values() for pid in group})
    holders = tuple((pid, names.get(pid) or _comm(proc, pid)) for pid in holder_pids)
    if reason:
        return DaemonLookup(address, None, holders, reason)
    daemons = [pid for pid, comm in holders if comm == "dockerd"]
    if not daemons:
        served = ", ".join(f"{comm} (pid {pid})" for pid, comm in holders)
        return DaemonLookup(address, None, holders, f"served by {served}, not by dockerd (a proxy?)")
    if len(daemons) > 1:
        return DaemonLookup(address, None, holders, f"several dockerd processes hold it: {daemons}")
    return DaemonLookup(address, read_daemon(daemons[0], proc, netns_dir), holders, None)
