"""The collector's child process: the host's facts and the exposure computed ahead of the
inspects, taken only when computed from the same inputs, and a child that never outlives its
scan nor runs the parent's signal handlers."""

from __future__ import annotations

import json
import os
import signal
import socketserver
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from support.scan_fixtures import raw_of

from auditor.audit.pipeline import with_exposure
from auditor.collectors import ahead, daemon_facts
from auditor.collectors.ahead import HostChild, engine_lists, list_entry_document
from auditor.collectors.daemon_facts import HostReading
from auditor.collectors.endpoints import EngineSpec
from auditor.collectors.inspect import normalize_container
from auditor.collectors.raw import normalize_raw
from auditor.collectors.request import ScanRequest
from auditor.collectors.sources import collect, forked_ahead
from auditor.exposure import view
from auditor.exposure.view import exposure_inputs, exposure_of
from auditor.model.records import SourceKind, Target

TARGET = Target(SourceKind.ENGINE, "e", "unix:///run/docker.sock")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _gone(child: HostChild, within: float = 5.0) -> bool:
    pid = child._pid  # noqa: SLF001 - the test watches the process itself
    deadline = time.monotonic() + within
    while pid is not None and _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    return pid is None or not _alive(pid)


def _reading() -> HostReading:
    raw = raw_of("default")
    return HostReading(dict(raw.host), ("a note",), raw.dumps)


def test_a_list_entry_gives_the_exposure_inputs_of_the_inspect():
    """Docker's container list (GET /containers/json) beside the same container's inspect:
    every field the analysis reads is equal (the rest is not the analysis' business)."""
    networks = {
        "appnet": {"NetworkID": "n1", "EndpointID": "e1", "IPAddress": "172.20.0.5", "IPPrefixLen": 16,
                   "GlobalIPv6Address": "fd00::5", "Gateway": "172.20.0.1", "Aliases": None},
    }  # fmt: skip
    entry = {
        "Id": "c0ffee",
        "Names": ["/web"],
        "Image": "nginx",
        "State": "running",
        "Status": "Up 2 minutes",
        "Ports": [
            {"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
            {"IP": "::", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
            {"PrivatePort": 9100, "Type": "tcp"},
            {"IP": "127.0.0.1", "PrivatePort": 53, "PublicPort": 5353, "Type": "udp"},
        ],
        "HostConfig": {"NetworkMode": "appnet"},
        "NetworkSettings": {"Networks": networks},
    }
    inspect = {
        "Id": "c0ffee",
        "Name": "/web",
        "State": {"Status": "running", "Running": True},
        "Config": {"Image": "nginx", "ExposedPorts": {"80/tcp": {}, "9100/tcp": {}, "53/udp": {}},
                   "Labels": {"a": "b"}},
        "HostConfig": {"NetworkMode": "appnet", "PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "8080"}],
                       "53/udp": [{"HostIp": "127.0.0.1", "HostPort": "5353"}]}, "Privileged": False},
        "NetworkSettings": {
            "Networks": {"appnet": {**networks["appnet"], "Aliases": ["web", "c0ffee"]}},
            "Ports": {
                "80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}, {"HostIp": "::", "HostPort": "8080"}],
                "9100/tcp": None,
                "53/udp": [{"HostIp": "127.0.0.1", "HostPort": "5353"}],
            },
        },
        "Mounts": [{"Type": "bind", "Source": "/srv", "Destination": "/srv", "RW": True}],
    }  # fmt: skip
    listed = normalize_container(list_entry_document(entry), TARGET)
    inspected = normalize_container(inspect, TARGET)
    assert listed != inspected  # the list lacks most of the inspect
    snap = normalize_raw(raw_of("default"))
    left = exposure_inputs(replace(snap, containers=(listed,)))
    right = exposure_inputs(replace(snap, containers=(inspected,)))
    assert left == right
    assert [b.display() for b in left.containers[0].ports] == [
        "127.0.0.1:5353->53/udp",
        "0.0.0.0:8080->80/tcp",
        "[::]:8080->80/tcp",
        "9100/tcp (exposed only)",
    ]


def test_hostile_list_entries_give_documents_not_faults():
    for entry in (None, [], {"Ports": [None, 3, {"PrivatePort": "x"}]}, {"Names": "x", "NetworkSettings": 1}):
        doc = list_entry_document(entry)
        assert set(doc) == {"Id", "Name", "State", "Config", "HostConfig", "NetworkSettings"}


def _list_entry(doc: dict) -> dict:
    """What Docker's container list says of a container its inspect ``doc`` describes."""
    settings = doc.get("NetworkSettings") or {}
    ports = []
    for key, bound in (settings.get("Ports") or {}).items():
        port, proto = key.split("/")
        for b in bound or [None]:
            entry = {"PrivatePort": int(port), "Type": proto}
            if b:
                entry |= {"IP": b["HostIp"], "PublicPort": int(b["HostPort"])}
            ports.append(entry)
    return {
        "Id": doc["Id"],
        "Names": [doc["Name"]],
        "State": doc["State"]["Status"],
        "Ports": ports[::-1],  # in another order than the inspect's
        "HostConfig": {"NetworkMode": doc["HostConfig"]["NetworkMode"]},
        "NetworkSettings": {"Networks": settings.get("Networks") or {}},
    }


def _start(read=None, analyse=True):
    child = HostChild.start(read or (lambda address, version, **_: _reading()), "unix:///x", TARGET, analyse)
    assert child is not None
    return child


@contextmanager
def _fake_engine(path: Path, routes: dict[str, object]) -> Iterator[list[str]]:
    """An engine API on a unix socket answering GET for ``routes`` (by path, without the
    query), 404 for anything else; yields the paths asked for."""
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - the standard library's name
            asked.append(self.path)
            found = routes.get(self.path.partition("?")[0])
            body = json.dumps(found if found is not None else {"message": "page not found"}).encode()
            self.send_response(200 if found is not None else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = socketserver.ThreadingUnixStreamServer(str(path), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield asked
    finally:
        server.shutdown()
        server.server_close()


def _engine_routes() -> dict[str, object]:
    raw = raw_of("default")
    return {
        "/version": {"Version": "20.10.24", "ApiVersion": "1.41"},
        "/containers/json": [_list_entry(d) for d in raw.containers],
        "/networks": list(raw.networks),
    }


def test_the_engine_s_lists_are_asked_over_its_socket_read_only(tmp_path, monkeypatch):
    routes = _engine_routes()
    with _fake_engine(tmp_path / "engine.sock", routes) as asked:
        found = engine_lists(f"unix://{tmp_path}/engine.sock")
        assert found is not None
        assert found[0] == (routes["/version"], {}, routes["/containers/json"], routes["/networks"])
        assert [json.loads(body) for body in found[1]] == [routes["/containers/json"], routes["/networks"]]
        assert asked == ["/version", "/containers/json?limit=-1&all=1&size=0&trunc_cmd=0", "/networks"]
        monkeypatch.setattr(ahead, "LIST_LIMIT", 100)  # an answer larger than the limit is not read
        assert engine_lists(str(tmp_path / "engine.sock")) is None
    refusing = {k: v for k, v in routes.items() if k != "/networks"}  # a socket proxy, say
    with _fake_engine(tmp_path / "proxy.sock", refusing):
        assert engine_lists(f"unix://{tmp_path}/proxy.sock") is None
    assert engine_lists(f"unix://{tmp_path}/absent.sock") is None
    assert engine_lists("tcp://127.0.0.1:2375") is None  # only a unix socket is asked directly
    assert engine_lists("ssh://user@host") is None


def test_the_child_analyses_the_engine_s_own_lists_without_waiting_for_the_scan_s():
    """On a unix socket the child asks the engine for its lists itself, so its analysis does
    not wait for this process to import the SDK and list them."""
    raw = raw_of("default")
    snapshot = replace(normalize_raw(raw), host_dumps=_reading().dumps)
    expected = exposure_of(snapshot)
    assert expected is not None

    def read(address, version, **_):  # the version as the child got it, in the reading's notes
        return HostReading(_reading().facts, (f"version {version()}",), _reading().dumps)

    sock = Path(f"/tmp/auditor-test-{os.getpid()}.sock")  # a short path: sun_path holds 108 bytes
    with _fake_engine(sock, _engine_routes()):
        try:
            child = HostChild.start(read, f"unix://{sock}", TARGET, True)
            assert child is not None
            try:  # the scan's listing is never sent
                assert child.exposure(exposure_inputs(snapshot)) == expected[1]
                assert child._values["reading"].notes == ("version 20.10.24",)  # noqa: SLF001
            finally:
                child.close()
        finally:
            sock.unlink(missing_ok=True)


@contextmanager
def _child_of_engine(routes: dict[str, object], name: str) -> Iterator[HostChild]:
    """An analysing child of a fake engine answering ``routes`` on its unix socket."""
    sock = Path(f"/tmp/auditor-test-{name}-{os.getpid()}.sock")  # sun_path holds 108 bytes
    with _fake_engine(sock, routes):
        try:
            child = HostChild.start(lambda address, version, **_: _reading(), f"unix://{sock}", TARGET, True)
            assert child is not None
            try:
                yield child
            finally:
                child.close()
        finally:
            sock.unlink(missing_ok=True)


def test_the_child_hands_its_lists_to_the_scan_without_the_scan_waiting_for_them():
    """The lists the child asked the engine for reach this process as the engine sent them,
    so the scan need not list the engine again; asking for them never waits, and a child
    that has none (no engine answered it) gives none."""
    routes = _engine_routes()
    with _child_of_engine(routes, "lists") as child:
        child.reading()  # sent after the child asked for its lists (it waits for the version)
        deadline = time.monotonic() + 10
        while (found := child.engine_lists()) is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert found == (routes["/containers/json"], routes["/networks"])
    child = _start()  # unix:///x: nothing listens, the child lists nothing
    try:
        child.reading()
        started = time.monotonic()
        assert child.engine_lists() is None
        assert time.monotonic() - started < 0.5
    finally:
        child.close()


def test_lists_that_are_not_lists_are_not_handed_over():
    with _child_of_engine({**_engine_routes(), "/networks": {"message": "not a list"}}, "hostile") as child:
        child.send_listing({}, {})  # its own lists are refused: the child waits for the scan's
        child.reading()  # a "lists" message would have come before it (sent before the version)
        assert child.engine_lists() is None


def test_the_child_sends_the_reading_and_the_exposure_of_the_same_inputs():
    raw = raw_of("default")
    assert all(d["State"]["Status"] == "running" for d in raw.containers)
    snapshot = normalize_raw(raw)
    child = _start()
    child.send_listing(raw.version, raw.info, [_list_entry(d) for d in raw.containers], list(raw.networks))
    try:
        assert child.reading() == _reading()
        found = child.exposure(exposure_inputs(replace(snapshot, host_dumps=_reading().dumps)))
        expected = exposure_of(replace(snapshot, host_dumps=_reading().dumps))
        assert expected is not None and found == expected[1]
    finally:
        child.close()
    assert _gone(child)


def test_the_exposure_comes_row_by_row_and_is_whole_only_at_its_end(monkeypatch):
    """One row per message: the parent gathers every row before the last message and the
    exposure it assembles is the one computed here, rows in order."""
    raw = raw_of("default")
    snapshot = replace(normalize_raw(raw), host_dumps=_reading().dumps)
    expected = exposure_of(snapshot)
    assert expected is not None and len(expected[1].ports) > 2
    monkeypatch.setattr(ahead, "PORTS_PER_MESSAGE", 1)  # the forked child sees it
    child = _start()
    child.send_listing(raw.version, raw.info, [_list_entry(d) for d in raw.containers], list(raw.networks))
    try:
        assert child.exposure(exposure_inputs(snapshot)) == expected[1]
        assert len(child._ports) == len(expected[1].ports)  # noqa: SLF001 - each row came alone
    finally:
        child.close()


def test_the_child_analyses_the_dumps_it_parsed_while_the_listing_was_on_its_way(monkeypatch):
    """A reader that hands the dumps on (``on_dumps``) has them parsed at once: the analysis
    then starts from those facts instead of parsing them again."""
    raw = raw_of("default")
    snapshot = replace(normalize_raw(raw), host_dumps=_reading().dumps)
    expected = exposure_of(snapshot)
    assert expected is not None
    real = view.exposure_stream

    def parsed_only(inputs, facts=None):
        if facts is None:
            raise AssertionError("the dumps were parsed again")
        return real(inputs, facts)

    def read(address, version, on_dumps, **_):
        reading = _reading()
        on_dumps(reading.dumps)
        version()
        return reading

    monkeypatch.setattr(view, "exposure_stream", parsed_only)  # the forked child sees it
    child = _start(read)
    child.send_listing(raw.version, raw.info, [_list_entry(d) for d in raw.containers], list(raw.networks))
    try:
        assert child.exposure(exposure_inputs(snapshot)) == expected[1]
    finally:
        child.close()


def test_a_child_that_fails_between_rows_gives_no_exposure(monkeypatch):
    """Rows already sent are never taken as a whole exposure: the stage computes its own."""
    real = view.exposure_stream

    def failing(inputs, facts=None):
        zones, notes, rows = real(inputs, facts)

        def some():
            yield next(rows)
            raise RuntimeError("boom")

        return zones, notes, some()

    monkeypatch.setattr(view, "exposure_stream", failing)  # the child imports it after the fork
    monkeypatch.setattr(ahead, "PORTS_PER_MESSAGE", 1)
    raw = raw_of("default")
    snapshot = replace(normalize_raw(raw), host_dumps=_reading().dumps)
    child = _start()
    child.send_listing(raw.version, raw.info, [_list_entry(d) for d in raw.containers], list(raw.networks))
    assert child.exposure(exposure_inputs(snapshot)) is None
    assert _gone(child)
    assert with_exposure(snapshot, child).exposure == with_exposure(snapshot).exposure


def test_an_exposure_of_other_inputs_is_not_taken_and_the_child_is_stopped():
    raw = raw_of("default")
    snapshot = replace(normalize_raw(raw), host_dumps=_reading().dumps)
    child = _start()
    child.send_listing(
        raw.version, raw.info, [_list_entry(d) for d in raw.containers[1:]], list(raw.networks)
    )
    assert child.exposure(exposure_inputs(snapshot)) is None  # a container fewer: not taken
    assert _gone(child)
    computed = with_exposure(snapshot, child)
    assert computed.exposure == with_exposure(snapshot).exposure  # computed here instead


def test_a_failing_child_gives_no_reading():
    def broken(address, version, **_):
        raise RuntimeError("boom")

    child = _start(broken)
    assert child.reading() is None
    assert child.exposure(exposure_inputs(normalize_raw(raw_of("default")))) is None
    assert _gone(child)


def test_the_version_comes_with_the_listing_and_a_missing_listing_ends_the_child():
    def read(address: str, version, **_) -> HostReading:
        return HostReading({"version_read": version()})

    child = _start(read)
    assert child.reading() == HostReading({"version_read": None})  # no listing: sent empty, read on
    assert _gone(child)
    child = _start(read, analyse=False)
    child.send_listing({"Version": "20.10.24"}, {}, [], [])
    assert child.reading() == HostReading({"version_read": "20.10.24"})
    assert _gone(child)  # not asked to analyse: done after the reading


def test_a_child_that_never_answers_is_stopped_and_not_waited_for(monkeypatch):
    monkeypatch.setattr(ahead, "READING_WAIT", 0.3)
    child = _start(lambda address, version, **_: time.sleep(60) or _reading())
    started = time.monotonic()
    assert child.reading() is None  # the facts are then read in the scan's own process
    assert time.monotonic() - started < 5
    assert _gone(child, within=1.0)


def test_close_stops_a_child_still_reading():
    child = _start(lambda address, version, **_: time.sleep(60) or _reading())
    child.close()
    assert _gone(child, within=1.0)
    assert child.reading() is None


def test_the_child_never_runs_the_parents_signal_handlers(tmp_path):
    """Ctrl-C reaches the child too: it dies at once, without the parent's handlers (which
    may remove what the parent made)."""
    marker = tmp_path / "handler-ran"
    previous = signal.signal(signal.SIGINT, lambda *args: marker.write_text(str(os.getpid())))
    try:
        child = _start(lambda address, version, **_: time.sleep(60) or _reading())
        pid = child._pid  # noqa: SLF001
        assert pid is not None
        time.sleep(0.2)
        os.kill(pid, signal.SIGINT)
        assert child.reading() is None
        assert _gone(child, within=2.0)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert not marker.exists()


def test_a_snapshot_without_dumps_takes_nothing_from_the_child():
    raw = raw_of("default")
    child = _start()
    child.send_listing(raw.version, raw.info, [_list_entry(d) for d in raw.containers], list(raw.networks))
    assert with_exposure(normalize_raw(replace(raw, dumps=None)), child).exposure is None
    child.close()
    assert _gone(child)


def _recording_starts(monkeypatch) -> list[HostChild]:
    """Every child ``HostChild.start`` forks from now on, in order."""
    started: list[HostChild] = []
    real = HostChild.start

    def recording(*args, **kwargs):
        child = real(*args, **kwargs)
        started.append(child)
        return child

    monkeypatch.setattr(HostChild, "start", recording)
    return started


def test_an_engine_that_cannot_be_reached_leaves_no_child(monkeypatch, tmp_path):
    """The child is forked before the engine is reached: when the engine fails, it goes too."""
    started = _recording_starts(monkeypatch)
    request = ScanRequest(engines=(EngineSpec(url=f"unix://{tmp_path}/none.sock"),))
    [item] = collect(request, exposure_ahead=True)
    assert item.snapshot is None and item.error is not None
    assert started and all(child is not None and _gone(child, within=2.0) for child in started)


def test_children_forked_ahead_are_the_ones_collected_and_none_outlives_the_block(monkeypatch, tmp_path):
    """The scan command forks its engines' children before it imports the pipeline
    (``forked_ahead``): ``collect`` takes those instead of forking again, and leaving the
    block stops any still running."""
    started = _recording_starts(monkeypatch)
    request = ScanRequest(engines=(EngineSpec(url=f"unix://{tmp_path}/none.sock"),))
    with forked_ahead(request, exposure_ahead=True) as children:
        assert children == started and len(started) == 1
        with pytest.raises(ValueError, match="1 host children for 2 engines"):
            collect(replace(request, engines=request.engines * 2), children=children)
        [item] = collect(request, exposure_ahead=True, children=children)
        assert item.error is not None and len(started) == 1  # no second fork
    assert _gone(started[0], within=2.0)
    monkeypatch.setattr(daemon_facts, "read_host_facts", lambda address, version, **_: time.sleep(60))
    with forked_ahead(request, exposure_ahead=False) as children:
        assert len(started) == 2 and not started[1].analyses
    assert _gone(started[1], within=2.0)  # never collected, still reading: stopped as the block ends
    with forked_ahead(ScanRequest(paths=("compose.yaml",)), exposure_ahead=True) as children:
        assert children == [] and len(started) == 2  # no engine: no child


def test_the_child_holds_none_of_the_parents_descriptors():
    """A pipe the parent holds sees EOF when the parent closes its end, although the child
    still runs: the child closed what it inherited (a browser driver waiting for EOF on its
    pipe hung the test session otherwise)."""
    read_end, write_end = os.pipe()
    child = _start(lambda address, version, **_: time.sleep(30) or _reading())
    try:
        os.close(write_end)
        os.set_blocking(read_end, False)
        deadline = time.monotonic() + 5
        while True:
            try:
                assert os.read(read_end, 1) == b""  # EOF: nobody else holds the write end
                break
            except BlockingIOError:
                assert time.monotonic() < deadline, "the child holds the parent's pipe open"
                time.sleep(0.05)
        assert child._pid is not None and _alive(child._pid)  # noqa: SLF001 - still running
    finally:
        os.close(read_end)
        child.close()
    assert _gone(child)
