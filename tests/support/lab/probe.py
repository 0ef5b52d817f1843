"""Real-packet reachability probes: the ground truth the exposure rules are held to.

A probe sends real packets from the current network namespace (the lab runs it on a thread
inside a lab host's namespace) and says what came back:

TCP (a non-blocking ``connect``):
  ``open``        the handshake completed: something accepted (a container, or docker-proxy:
                  with the userland proxy a published port accepts even when nothing listens
                  behind it; ask for the ``banner`` to see who answered);
  ``refused``     a RST or ICMP port-unreachable came back: the packets arrived and nothing
                  listens there, or a REJECT rule answered in its place;
  ``filtered``    nothing at all came back within the timeout, twice (a DROP on the way, or
                  no such host);
  ``unreachable`` an ICMP host/net unreachable or administratively prohibited, or this side
                  has no route.
UDP (a connected socket, the datagram sent three times over the timeout):
  ``open``        a datagram came back;
  ``refused``     ICMP port-unreachable: the datagram reached the host or container and no
                  socket was bound there (or a REJECT rule); conclusive;
  ``no-reply``    nothing came back: either a service that does not answer this payload, or
                  a DROP. UDP cannot tell these apart; never read it as "filtered". Kernels
                  also rate-limit ICMP errors per peer, so a burst of probes to closed ports
                  can turn some ``refused`` into ``no-reply``.

The first TCP attempt uses a short timeout (open and refused answers take microseconds
between namespaces); only a silent target is asked again with a longer one, so ``filtered``
is not a symptom of a busy machine.
"""

from __future__ import annotations

import errno
import selectors
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum


class Outcome(str, Enum):
    OPEN = "open"
    REFUSED = "refused"
    FILTERED = "filtered"
    UNREACHABLE = "unreachable"
    NO_REPLY = "no-reply"


@dataclass(frozen=True)
class Target:
    address: str
    port: int
    proto: str = "tcp"

    def __post_init__(self) -> None:
        if self.proto not in ("tcp", "udp"):
            raise ValueError(f"proto must be tcp or udp, not {self.proto!r}")


@dataclass(frozen=True)
class ProbeResult:
    target: Target
    outcome: Outcome
    detail: str  # the errno name or "timeout"/"reply"/"connected"
    elapsed: float
    banner: bytes | None = None  # what the server sent first (TCP with banner=True, UDP replies)


UNREACHABLE_ERRNOS = frozenset(
    {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN, errno.ENETDOWN, errno.EACCES, errno.EPERM}
)


def classify_errno(code: int) -> Outcome:
    """What a socket error means for reachability (``0`` is a completed connect)."""
    if code == 0:
        return Outcome.OPEN
    if code == errno.ECONNREFUSED:
        return Outcome.REFUSED
    if code == errno.ETIMEDOUT:
        return Outcome.FILTERED
    if code in UNREACHABLE_ERRNOS:
        return Outcome.UNREACHABLE
    raise OSError(code, f"probe: unexpected socket error {errno.errorcode.get(code, code)}")


def _family(address: str) -> int:
    return socket.AF_INET6 if ":" in address else socket.AF_INET


def _close_hard(sock: socket.socket) -> None:
    """Close with a RST (linger 0): no TIME_WAIT left behind by hundreds of probes."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    except OSError:
        pass
    sock.close()


def _tcp_round(
    targets: Sequence[Target],
    timeout: float,
    banner: bool,
    banner_wait: float | None = None,
    request: bytes | None = None,
) -> dict[int, tuple[Outcome, str, bytes | None]]:
    """One concurrent connect to every target; silent ones are absent from the answer.
    A connected socket waits for its banner until ``banner_wait`` after it connected (by
    default until the round's deadline). With ``request`` it sends that first and reads the
    answer until the server closes (up to 4 KiB)."""
    received: dict[int, bytes] = {}
    sel = selectors.DefaultSelector()
    done: dict[int, tuple[Outcome, str, bytes | None]] = {}
    socks: dict[int, socket.socket] = {}
    try:
        for i, t in enumerate(targets):
            sock = socket.socket(_family(t.address), socket.SOCK_STREAM)
            sock.setblocking(False)
            socks[i] = sock
            code = sock.connect_ex((t.address, t.port))
            if code in (0, errno.EINPROGRESS):
                sel.register(sock, selectors.EVENT_WRITE, i)
            else:
                done[i] = (classify_errno(code), errno.errorcode.get(code, str(code)), None)
        deadline = time.monotonic() + timeout
        connecting = {key.data for key in sel.get_map().values()}
        speaking: dict[int, float] = {}  # connected, waiting for a banner until then
        while connecting or speaking:
            now = time.monotonic()
            for i in [i for i, until in speaking.items() if until <= now]:
                done[i] = (Outcome.OPEN, "connected", received.pop(i, b""))  # all it said in time
                sel.unregister(socks[i])
                del speaking[i]
            if now >= deadline and connecting:  # silent: left out of the answer
                for i in connecting:
                    sel.unregister(socks[i])
                connecting = set()
            if not (connecting or speaking):
                break
            wake = min([deadline] * bool(connecting) + list(speaking.values()))
            for key, _events in sel.select(max(0.0, wake - now)):
                i = key.data
                sock = socks[i]
                if i in speaking:
                    try:
                        data: bytes = sock.recv(4096 if request is not None else 256)
                    except OSError as exc:
                        data = f"<{errno.errorcode.get(exc.errno or 0, exc)}>".encode()
                    if request is not None and data and len(received.get(i, b"")) + len(data) < 4096:
                        received[i] = received.get(i, b"") + data  # more may follow
                        continue
                    done[i] = (Outcome.OPEN, "connected", received.pop(i, b"") + data)
                    sel.unregister(sock)
                    del speaking[i]
                    continue
                connecting.discard(i)
                code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                outcome = classify_errno(code)
                if outcome is Outcome.OPEN and banner:
                    if request is not None:
                        try:
                            sock.send(request)  # small: fits the send buffer at once
                        except OSError:
                            pass
                    sel.modify(sock, selectors.EVENT_READ, i)
                    speaking[i] = time.monotonic() + banner_wait if banner_wait is not None else deadline
                    continue
                done[i] = (outcome, "connected" if code == 0 else errno.errorcode.get(code, str(code)), None)
                sel.unregister(sock)
    finally:
        sel.close()
        for sock in socks.values():
            _close_hard(sock)
    return done


def probe_tcp(
    targets: Sequence[Target],
    timeout: float = 0.3,
    retry_timeout: float = 1.0,
    banner: bool = False,
    banner_wait: float | None = None,
    request: bytes | None = None,
) -> list[ProbeResult]:
    start = time.monotonic()
    done = _tcp_round(targets, timeout, banner, banner_wait, request)
    silent = [i for i in range(len(targets)) if i not in done]
    if silent:
        again = _tcp_round([targets[i] for i in silent], retry_timeout, banner, banner_wait, request)
        for j, i in enumerate(silent):
            done[i] = again.get(j, (Outcome.FILTERED, "timeout", None))
    elapsed = time.monotonic() - start
    return [ProbeResult(t, done[i][0], done[i][1], elapsed, done[i][2]) for i, t in enumerate(targets)]


def probe_udp(
    targets: Sequence[Target], timeout: float = 0.6, payload: bytes = b"audlab-probe\n"
) -> list[ProbeResult]:
    start = time.monotonic()
    sel = selectors.DefaultSelector()
    done: dict[int, tuple[Outcome, str, bytes | None]] = {}
    socks: dict[int, socket.socket] = {}
    try:
        for i, t in enumerate(targets):
            sock = socket.socket(_family(t.address), socket.SOCK_DGRAM)
            sock.setblocking(False)
            socks[i] = sock
            try:
                sock.connect((t.address, t.port))
            except OSError as exc:
                done[i] = (classify_errno(exc.errno or 0), errno.errorcode.get(exc.errno or 0, "?"), None)
                continue
            sel.register(sock, selectors.EVENT_READ, i)
        deadline = start + timeout
        sends = [start + timeout * k / 3 for k in range(3)]
        while sel.get_map() and time.monotonic() < deadline:
            now = time.monotonic()
            while sends and sends[0] <= now:
                sends.pop(0)
                for key in list(sel.get_map().values()):
                    try:
                        key.fileobj.send(payload)  # type: ignore[union-attr]
                    except OSError as exc:
                        i = key.data
                        done[i] = (
                            classify_errno(exc.errno or 0),
                            errno.errorcode.get(exc.errno or 0, "?"),
                            None,
                        )
                        sel.unregister(key.fileobj)
            wake = min([deadline, *sends[:1]])
            for key, _events in sel.select(max(0.0, wake - time.monotonic())):
                i = key.data
                try:
                    data = socks[i].recv(2048)
                    done[i] = (Outcome.OPEN, "reply", data)
                except OSError as exc:
                    code = exc.errno or 0
                    done[i] = (classify_errno(code), errno.errorcode.get(code, str(code)), None)
                sel.unregister(socks[i])
    finally:
        sel.close()
        for sock in socks.values():
            sock.close()
    elapsed = time.monotonic() - start
    results = []
    for i, t in enumerate(targets):
        outcome, detail, reply = done.get(i, (Outcome.NO_REPLY, "timeout", None))
        results.append(ProbeResult(t, outcome, detail, elapsed, reply))
    return results


def probe_all(
    targets: Sequence[Target],
    timeout: float = 0.3,
    retry_timeout: float = 1.0,
    banner: bool = False,
    banner_wait: float | None = None,
    request: bytes | None = None,
) -> list[ProbeResult]:
    """Probe TCP and UDP targets from this namespace; results in the order given.
    ``request``: bytes a TCP probe sends once connected (with ``banner``: the answer)."""
    tcp = [i for i, t in enumerate(targets) if t.proto == "tcp"]
    udp = [i for i, t in enumerate(targets) if t.proto == "udp"]
    results: dict[int, ProbeResult] = {}
    if tcp:
        found = probe_tcp([targets[i] for i in tcp], timeout, retry_timeout, banner, banner_wait, request)
        results.update(zip(tcp, found, strict=True))
    if udp:
        found = probe_udp([targets[i] for i in udp], max(timeout * 2, 0.6))
        results.update(zip(udp, found, strict=True))
    return [results[i] for i in range(len(targets))]
