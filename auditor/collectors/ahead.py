"""The host's facts, and the exposure ahead of the inspects, read in a forked child process.

A live scan is CPU-bound in this process (at 200 containers the engine spends ~0.2 s of a
1.2 s scan), and Python runs one thread at a time: the host's facts read in a thread beside
the inspect threads stalled both. ``HostChild.start`` forks a child as the scan begins: the
scan command forks it (``sources.forked_ahead``) before it imports the pipeline, the
analysis, the rules and the engine's SDK, so the child's reading of the host runs on the
other core beside those imports. The child loads the analysis itself, when the dumps it
parses first arrive (while it waits for the engine's lists): loaded before the fork, its
~30 ms were on this process's path, and paired whole scans were ~4% slower. The scan checks
the child's answer with ``exposure.inputs``, which needs only the model, so a scan whose
child answers never loads the analysis. The child parses the dumps as soon as they are
read. On a unix socket it asks the engine for its version and its container and network
lists itself (``engine_lists``: three GETs, not the SDK, whose import alone takes longer
than the child's reading), once its reading has found the daemon (``on_found``), and sends
the two lists to this process as the engine wrote them: when they are in by the time the scan
would list the engine, the scan inspects what they list instead of asking the engine again
(``HostChild.engine_lists``; the lists were a second listing of the engine, paid for by the
exposure). Otherwise, or when the engine refuses, the child takes those this process sends
once it has listed them (``send_listing``). It sends the facts (their daemon defaults need
the version), then analyses the exposure of the host as those lists show it
(``listed_snapshot``), mostly before this process's inspects begin.

That exposure is only a guess until the inspects are in: ``HostChild.exposure(inputs)`` gives
it only when the inputs it was computed from (``exposure_inputs``: every field the analysis
reads, and nothing else) equal those of the snapshot the inspects gave, so the answer is the
one the stage would compute; otherwise the child is stopped and the stage computes it here.
A child that fails, or a platform without ``fork``, costs nothing but the time: the facts are
then read in this process as before. The child writes nothing but its pipe and never outlives
the scan (``close``); it exits on SIGINT without running this process's handlers.
"""

from __future__ import annotations

import gc
import http.client
import os
import pickle
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, BinaryIO

from auditor.collectors.daemon_facts import HostReading
from auditor.collectors.daemon_process import parse_endpoint
from auditor.collectors.raw import (
    RawState,
    Records,
    engine_state,
    normalized_records,
    sanitize_container,
    snapshot_of,
)
from auditor.model.exposure import Exposure, HostDumps, PortReach
from auditor.model.jsontext import loads
from auditor.model.records import Snapshot, Target

if TYPE_CHECKING:
    from auditor.exposure.inputs import ExposureInputs

_HEADER = 8  # bytes of each message's length
# and "ports": the exposure's rows ahead of it; "lists": the engine's lists as the child got them
_MESSAGES = ("reading", "inputs", "exposure", "lists")
# Rows of the exposure per message: the child sends them as they are analysed, so pickling
# them (~12 ms at 200 containers) is done before the last is ready. Each message holds its
# rows pickled once more, and this process unpickles them only with the last message: the
# reader thread must not take the interpreter from the inspect threads while they run.
PORTS_PER_MESSAGE = 32
# Seconds the parent waits for a child that never answers (each of its commands times out after
# 10; 200 containers take it well under one to analyse) before doing the work itself.
READING_WAIT = 60.0
EXPOSURE_WAIT = 120.0
# The child's own GETs of the engine's lists: seconds per request, and the largest answer
# it reads (the scan's own listing, through the SDK, is used otherwise).
LIST_TIMEOUT = 10.0
LIST_LIMIT = 64 * 1024 * 1024
# read_host_facts(address, version, on_dumps=..., on_found=...): ``on_found()`` is called once
# the daemon is found, before its namespace is read; ``on_dumps`` gets the dumps as soon as they
# are read, before the version is asked for (the child parses them while it waits for that)
Reader = Callable[..., HostReading]


def list_entry_document(entry: Any) -> dict:
    """An inspect-shaped document from one entry of the container list (``GET
    /containers/json``), with the fields the exposure analysis reads as a running container's
    inspect gives them: name, id, state, network mode, endpoints, live port map."""
    entry = entry if isinstance(entry, dict) else {}
    ports: dict[str, list[dict] | None] = {}
    for port in entry.get("Ports") or ():
        if not isinstance(port, dict):
            continue
        key = f"{port.get('PrivatePort')}/{port.get('Type')}"
        if port.get("PublicPort"):
            bound = ports.get(key) or []
            bound.append({"HostIp": port.get("IP") or "", "HostPort": str(port["PublicPort"])})
            ports[key] = bound
        else:
            ports.setdefault(key, None)
    names = entry.get("Names") or [""]
    state = entry.get("State")
    settings = entry.get("NetworkSettings") if isinstance(entry.get("NetworkSettings"), dict) else {}
    host_config = entry.get("HostConfig") if isinstance(entry.get("HostConfig"), dict) else {}
    return {
        "Id": entry.get("Id"),
        "Name": names[0] if isinstance(names, list) and names else "",
        "State": {"Status": state, "Running": state == "running"},
        "Config": {},
        "HostConfig": {"NetworkMode": host_config.get("NetworkMode")},
        "NetworkSettings": {"Networks": settings.get("Networks") or {}, "Ports": ports},
    }


class HostChild:
    """The parent's end: the child's messages, read by a thread as they arrive (the pipe
    never fills, so the child never waits for this process)."""

    def __init__(self, pid: int, fd: int, send_fd: int):
        self._pid: int | None = pid
        self._send_fd = send_fd
        self._lock = threading.Lock()
        self._values: dict[str, Any] = {}
        self._arrived = {name: threading.Event() for name in _MESSAGES}
        self._ports: list[bytes] = []  # the rows' messages, unpickled with the last one
        self._reader = threading.Thread(target=self._read, args=(fd,), name="auditor-host-child", daemon=True)
        self._reader.start()

    @classmethod
    def start(cls, read: Reader, address: str, target: Target, analyse: bool) -> HostChild | None:
        """Fork the child (``None`` where it cannot be forked). It reads ``read(address,
        server_version, on_dumps=...)`` at once (the version, asked for last, comes with the
        engine's lists), sends it, and, when ``analyse``, the exposure of those lists (its own
        ``engine_lists`` on a unix socket, else those this process sends: ``send_listing``),
        as ``listed_snapshot`` reads them for ``target``."""
        if not hasattr(os, "fork"):
            return None
        fd_read, fd_write = os.pipe()
        fd_listing, fd_send = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            for fd in (fd_read, fd_write, fd_listing, fd_send):
                os.close(fd)
            return None
        if pid == 0:  # the child: never returns
            _keep_only(fd_write, fd_listing)
            _child(fd_write, fd_listing, read, address, target if analyse else None)
        os.close(fd_write)
        os.close(fd_listing)
        child = cls(pid, fd_read, fd_send)
        child.analyses = analyse
        return child

    analyses = False  # whether the child analyses the exposure after the reading

    def send_listing(self, version: Any, info: Any, containers: Any = None, networks: Any = None) -> None:
        """The engine's version and info, and its container and network lists (``None``: not
        read, nothing to analyse). Only the first call sends; the child reads it while it
        reads the host's facts, so this never waits for the child."""
        fd, self._send_fd = self._send_fd, -1
        if fd < 0:
            return
        try:
            _send(fd, "listing", (version, info, containers, networks))
        except OSError:
            pass  # the child is gone: the facts and the exposure are then computed here
        finally:
            os.close(fd)

    def engine_lists(self) -> tuple[list, list] | None:
        """The engine's container and network lists as the child asked for them over the
        engine's socket (``engine_lists``), if they came already (this never waits): the
        scan then inspects what they list instead of listing the engine a second time. They
        are what the scan's client would get (``tests/lab/test_lab_ahead.py``), read ~0.2 s
        earlier."""
        if not self._arrived["lists"].is_set():
            return None
        bodies = self._values.get("lists")
        if not (isinstance(bodies, tuple) and len(bodies) == 2):
            return None
        try:
            containers, networks = (loads(body) for body in bodies)
        except ValueError:
            return None
        if not (isinstance(containers, list) and isinstance(networks, list)):
            return None
        return containers, networks

    def _read(self, fd: int) -> None:
        try:
            with os.fdopen(fd, "rb") as pipe:
                while (message := _read_message(pipe)) is not None:
                    name, value = message
                    if name == "ports":
                        self._ports.append(value)
                        continue
                    if name == "exposure" and value is not None:
                        zones, notes, last = value
                        rows = [row for chunk in self._ports for row in pickle.loads(chunk)]  # noqa: S301
                        value = Exposure(zones, (*rows, *last), notes)
                    if name in self._arrived:
                        self._values[name] = value
                        self._arrived[name].set()
        except Exception:  # noqa: BLE001, S110 - a broken child only means the work is done here
            pass
        finally:
            for event in self._arrived.values():
                event.set()
            self._reap(kill=False)

    def _reap(self, kill: bool) -> None:
        with self._lock:
            pid, self._pid = self._pid, None
        if pid is None:
            return
        try:
            if kill:
                os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except OSError:
            pass

    def reading(self) -> HostReading | None:
        """The host's facts (``None``: the child failed before it had them). A listing not
        sent yet is sent empty first: the child waits for the version in it."""
        self.send_listing({}, {})
        if not self._arrived["reading"].wait(READING_WAIT):
            self.close()  # a child stuck (not merely slow: its commands time out sooner)
        value = self._values.get("reading")
        return value if isinstance(value, HostReading) else None

    def exposure(self, inputs: ExposureInputs) -> Exposure | None:
        """The exposure computed ahead, if it was computed from exactly ``inputs``; the child
        is stopped as soon as it is known not to be (or to have failed)."""
        if not self._arrived["inputs"].wait(EXPOSURE_WAIT):
            self.close()
        reading = self._values.get("reading")
        dumps = reading.dumps if isinstance(reading, HostReading) else None
        # the child's inputs come without the dumps, which are those of the reading it sent
        if self._values.get("inputs") != replace(inputs, dumps=None) or inputs.dumps != dumps:
            self.close()
            return None
        if not self._arrived["exposure"].wait(EXPOSURE_WAIT):
            self.close()
        value = self._values.get("exposure")
        return value if isinstance(value, Exposure) else None

    def close(self) -> None:
        """Stop the child if it still runs, and reap it."""
        fd, self._send_fd = self._send_fd, -1
        if fd >= 0:
            os.close(fd)
        self._reap(kill=True)


def server_version(version: Any, info: Any) -> str | None:
    """The engine's version as its API reports it (``version``, else ``info``)."""
    version = version if isinstance(version, dict) else {}
    info = info if isinstance(info, dict) else {}
    return str(version.get("Version") or info.get("ServerVersion") or "") or None


class _UnixConnection(http.client.HTTPConnection):
    """HTTP over the engine's unix socket."""

    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.connect(self._path)
        except BaseException:
            sock.close()
            raise
        self.sock = sock


def engine_lists(address: str, timeout: float = LIST_TIMEOUT) -> tuple[tuple, tuple[bytes, bytes]] | None:
    """``(version, {}, containers, networks)`` as the engine behind a ``unix://`` address
    lists them (``GET /version``, ``/containers/json?all=1``, ``/networks``; the API version
    the daemon speaks, as the scan's negotiated client gets), with the container and network
    lists as the engine sent them (the bodies, for the parent to read without the child
    encoding them again); ``None`` for another kind of address, an engine that refuses one of
    them (a socket proxy) or any fault. Read-only."""
    path = _unix_socket(address)
    if path is None:
        return None
    connection = _UnixConnection(path, timeout)
    try:
        bodies = [
            _get_body(connection, route)
            for route in ("/version", "/containers/json?limit=-1&all=1&size=0&trunc_cmd=0", "/networks")
        ]
        version, containers, networks = (loads(body) for body in bodies)
    except (OSError, http.client.HTTPException, ValueError):
        return None
    finally:
        connection.close()
    if not (isinstance(version, dict) and isinstance(containers, list) and isinstance(networks, list)):
        return None
    return (version, {}, containers, networks), (bodies[1], bodies[2])


def _unix_socket(address: str) -> str | None:
    """The socket path of a ``unix://`` address or a bare path (``parse_endpoint``)."""
    try:
        endpoint = parse_endpoint(address)
    except ValueError:
        return None
    return endpoint.path if endpoint.kind == "unix" else None


def _get_body(connection: http.client.HTTPConnection, path: str) -> bytes:
    connection.request("GET", path, headers={"Accept": "application/json"})
    response = connection.getresponse()
    body = response.read(LIST_LIMIT + 1)
    if response.status != 200 or len(body) > LIST_LIMIT:
        raise ValueError(f"GET {path}: {response.status}")
    return body


class _Listings:
    """The engine's lists as the child gets them: from its own requests (``engine_lists``)
    and from the parent's message, whichever is usable first. Each source offers once."""

    def __init__(self, sources: int) -> None:
        self._ready = threading.Condition()
        self._left = sources
        self._found: list[tuple[tuple, Any]] = []  # (listing, its normalized records or None)

    def offer(self, listing: Any, normalized: Any = None) -> None:
        with self._ready:
            self._left -= 1
            if _is_listing(listing):
                self._found.append((listing, normalized))
            self._ready.notify_all()

    def analysable(self) -> bool:
        """Whether a listing with its normalized records was offered already."""
        with self._ready:
            return any(records is not None for _, records in self._found)

    def first(self, wanted: Callable[[tuple, Any], bool]) -> tuple[tuple, Any] | None:
        """The first ``(listing, records)`` offered that is ``wanted``, waiting until one is
        or every source has offered (at most ``READING_WAIT``)."""
        with self._ready:
            self._ready.wait_for(
                lambda: self._left <= 0 or any(wanted(*f) for f in self._found), READING_WAIT
            )
            return next((f for f in self._found if wanted(*f)), None)


def _is_listing(listing: Any) -> bool:
    """``(version, info, containers, networks)``, as ``send_listing`` and ``engine_lists`` give it."""
    return isinstance(listing, tuple) and len(listing) == 4


def _has_lists(listing: Any) -> bool:
    return _is_listing(listing) and listing[2] is not None and listing[3] is not None


def listed_raw(target: Target, listing: tuple) -> RawState:
    """An engine as its lists show it: the containers of the container list as
    ``list_entry_document`` reads them, sorted and sanitized as the inspected ones are (no
    host facts: ``listed_snapshot`` adds them), built as the inspected engine's is."""
    version, info, entries, networks = listing
    docs = [sanitize_container(list_entry_document(e)) for e in entries]
    return engine_state(target, version, info, docs, [n for n in networks if isinstance(n, dict)])


def listed_snapshot(raw: RawState, records: Records, reading: HostReading) -> Snapshot:
    """The snapshot of ``listed_raw`` (whose ``normalized_records`` are ``records``) with the
    host's facts and dumps of ``reading``."""
    return snapshot_of(
        replace(raw, host=dict(reading.facts), notes=reading.notes, dumps=reading.dumps), records
    )


def _keep_only(*kept: int) -> None:
    """Close every descriptor the child inherited but its standard streams and ``kept``: it
    must not hold the parent's sockets, files or pipes open (a browser driver waits for EOF on
    its pipe, an output file for its last writer)."""
    start = 3
    for fd in sorted(kept):
        os.closerange(start, fd)
        start = fd + 1
    os.closerange(start, _max_fd())


def _max_fd() -> int:
    try:
        return max(int(name) for name in os.listdir("/proc/self/fd")) + 1
    except (OSError, ValueError):
        return os.sysconf("SC_OPEN_MAX") if hasattr(os, "sysconf") else 65536


def _read_message(pipe: BinaryIO) -> tuple[str, Any] | None:
    """The next ``(name, value)`` of ``_send`` on ``pipe`` (``None`` when it closes first).
    Only the parent and its forked child hold the two ends: nobody else writes them."""
    head = pipe.read(_HEADER)
    if len(head) < _HEADER:
        return None
    size = int.from_bytes(head, "big")
    body = pipe.read(size)
    return pickle.loads(body) if len(body) == size else None  # noqa: S301


def _receive(fd: int) -> Any:
    """The value of the one message on ``fd`` (``None`` when the pipe closes first)."""
    with os.fdopen(fd, "rb") as pipe:
        message = _read_message(pipe)
    return message[1] if message is not None else None


def _send(fd: int, name: str, value: Any) -> None:
    body = pickle.dumps((name, value), protocol=pickle.HIGHEST_PROTOCOL)
    data = memoryview(len(body).to_bytes(_HEADER, "big") + body)
    while data:
        data = data[os.write(fd, data) :]


def _child(fd: int, fd_listing: int, read: Reader, address: str, target: Target | None) -> None:
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # never the parent's handlers
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        gc.disable()  # a short life: every object lives until it ends
        own = target is not None and _unix_socket(address) is not None
        listings = _Listings(2 if own else 1)
        sending = threading.Lock()  # the lists are sent from their own thread

        def send(name: str, value: Any) -> None:
            with sending:
                _send(fd, name, value)

        def offer(found: Any) -> None:  # normalized in the offering thread, beside the reading
            normalized = None
            try:  # (not again when the other source's lists are already normalized)
                if target is not None and _has_lists(found) and not listings.analysable():
                    raw = listed_raw(target, found)
                    normalized = (raw, normalized_records(raw))
            except Exception:  # noqa: BLE001, S110 - not analysable: offered without its records
                pass
            listings.offer(found, normalized)

        def receive() -> None:  # drained at once, so the parent never waits on a full pipe
            found = None  # (a fault here must not print a thread's traceback on the terminal)
            try:
                found = _receive(fd_listing)
            except Exception:  # noqa: BLE001, S110 - nothing from the parent
                pass
            finally:
                offer(found)

        def ask() -> None:  # the engine's lists without waiting for the parent's SDK
            found = None
            try:
                asked = engine_lists(address)
                if asked is not None:
                    found, bodies = asked
                    send("lists", bodies)  # the parent inspects what they list
            except Exception:  # noqa: BLE001, S110 - whatever the engine sent: the parent's lists then
                pass
            finally:
                offer(found)

        threading.Thread(target=receive, daemon=True).start()
        begun = threading.Event()

        def begin() -> None:
            """The listing, in a thread, once the reading has found the daemon: its scans of
            every process need the interpreter (a thread beside them made them ~2x slower),
            its commands then mostly wait."""
            if begun.is_set():
                return
            begun.set()
            if own:
                threading.Thread(target=ask, daemon=True).start()

        def version() -> str | None:
            begin()  # (a reader that asks for it without saying it found the daemon)
            found = listings.first(lambda listing, _: server_version(listing[0], listing[1]) is not None)
            return server_version(found[0][0], found[0][1]) if found else None

        parsed: list[Any] = []  # the dumps' facts, parsed while the listing is still on its way

        def on_dumps(dumps: HostDumps) -> None:
            if target is None:
                return
            from auditor.exposure.view import facts_from_dumps

            try:
                parsed.append((dumps, facts_from_dumps(dumps)))
            except Exception:  # noqa: BLE001, S110 - malformed: the stage parses them and says so
                pass

        reading = read(address, version, on_dumps=on_dumps, on_found=begin)
        send("reading", reading)
        if reading.dumps is None or target is None:
            return  # nothing to analyse: the lists are not waited for (nor asked for)
        begin()  # (a reader that read the dumps without saying it found the daemon)
        found = listings.first(lambda _, records: records is not None)
        if found is None:
            return  # the engine's lists were not read
        from auditor.exposure.view import exposure_inputs, exposure_stream

        listed, records = found[1]
        snapshot = listed_snapshot(listed, records, reading)
        inputs = exposure_inputs(snapshot)
        send("inputs", replace(inputs, dumps=None))
        facts = parsed[0][1] if parsed and parsed[0][0] is reading.dumps else None  # else parsed now
        streamed = exposure_stream(inputs, facts)
        if streamed is None:
            send("exposure", None)
            return
        zones, notes, rows = streamed
        batch: list[PortReach] = []
        for row in rows:
            batch.append(row)
            if len(batch) == PORTS_PER_MESSAGE:
                send("ports", pickle.dumps(tuple(batch), protocol=pickle.HIGHEST_PROTOCOL))
                batch = []
        send("exposure", (zones, notes, tuple(batch)))
    except BaseException:  # noqa: BLE001 - the parent does the work itself
        code = 1
    finally:
        os._exit(code)
