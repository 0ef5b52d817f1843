"""A ``unix://`` engine's socket is tried before the SDK client is built: an address nobody
listens on fails in one ``connect(2)``, with the messages the client's failure gave."""

from __future__ import annotations

import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditor.collectors import engine
from auditor.collectors.endpoints import EngineSpec
from auditor.model.errors import TargetUnavailable

NOTHING = "cannot reach the Docker engine at {}: nothing is listening there"
DENIED = (
    "permission denied talking to the Docker engine at {} (run as a member of the docker group, "
    "or use a read-only socket proxy)"
)


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A folder whose socket paths stay under the 108 bytes AF_UNIX allows."""
    path = Path(tempfile.mkdtemp(prefix="probe", dir="/tmp"))
    yield path
    shutil.rmtree(path)


@pytest.fixture
def clients(monkeypatch) -> list[dict]:
    """The keyword arguments of every SDK client built (none is: a stand-in records them)."""
    built: list[dict] = []

    def client(**kwargs):
        built.append(kwargs)
        return kwargs

    monkeypatch.setattr(engine, "_EngineClient", client)
    return built


class _FailingSocket:
    """A socket whose connect fails with ``error``, recording the address and timeout."""

    error: BaseException | None = None
    calls: list[tuple[str, float | None]] = []

    def __init__(self, family: int, kind: int) -> None:
        assert (family, kind) == (socket.AF_UNIX, socket.SOCK_STREAM)
        self.timeout: float | None = None

    def settimeout(self, timeout: float) -> None:
        self.timeout = timeout

    def connect(self, path: str) -> None:
        type(self).calls.append((path, self.timeout))
        if self.error is not None:
            raise self.error

    def __enter__(self) -> _FailingSocket:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def _failing(monkeypatch, error: BaseException | None) -> list[tuple[str, float | None]]:
    monkeypatch.setattr(_FailingSocket, "error", error)
    monkeypatch.setattr(_FailingSocket, "calls", [])
    monkeypatch.setattr(engine.socket, "socket", _FailingSocket)
    return _FailingSocket.calls


def _unavailable(address: str, timeout: float = 0.2) -> str:
    with pytest.raises(TargetUnavailable) as caught:
        engine.connect(EngineSpec(url=address, timeout=timeout))
    assert caught.value.partial is None
    return str(caught.value)


@pytest.mark.parametrize("below", ["gone", "file"], ids=["missing folder", "below a regular file"])
def test_a_socket_path_that_cannot_exist_fails_before_a_client_is_built(clients, short_dir, below):
    (short_dir / "file").write_text("")
    address = f"unix://{short_dir}/{below}/docker.sock"
    assert _unavailable(address) == NOTHING.format(address)
    assert clients == []


def test_a_socket_file_nobody_listens_on_fails_before_a_client_is_built(clients, short_dir):
    path = short_dir / "dead.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.bind(str(path))  # the file stays; the listener is gone
    assert path.is_socket()
    assert _unavailable(f"unix://{path}") == NOTHING.format(f"unix://{path}")
    assert clients == []


def test_a_listening_socket_gets_its_client(clients, short_dir):
    path = short_dir / "live.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(path))
        server.listen(1)
        assert engine.connect(EngineSpec(url=f"unix://{path}", timeout=0.2)) == {
            "base_url": f"unix://{path}",
            "version": "auto",
            "timeout": 1,
            "tls": False,
            "use_ssh_client": False,
        }


def test_the_probe_opens_the_sdks_path_with_the_clients_timeout(monkeypatch, clients):
    calls = _failing(monkeypatch, FileNotFoundError(2, "No such file or directory"))
    for address in ("unix:///run/x.sock", "unix://run/x.sock", "unix://", "unix:///run/x.sock/"):
        _unavailable(address, timeout=2.5)
    # unix://run/x.sock is the SDK's legacy spelling of /run/x.sock; it opens /run//x.sock
    assert calls == [("/run/x.sock", 2), ("/run//x.sock", 2), ("/var/run/docker.sock", 2), ("/run/x.sock", 2)]
    assert clients == []


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (PermissionError(13, "Permission denied"), DENIED),
        (ConnectionRefusedError(111, "Connection refused"), NOTHING),
        (NotADirectoryError(20, "Not a directory"), NOTHING),
        (TimeoutError("timed out"), "the Docker engine at {} did not answer in time"),
        (OSError("AF_UNIX path too long"), "cannot read the Docker engine at {}: AF_UNIX path too long"),
    ],
)
def test_each_connect_failure_is_one_line(monkeypatch, clients, error, message):
    _failing(monkeypatch, error)
    assert _unavailable("unix:///run/x.sock") == message.format("unix:///run/x.sock")
    assert clients == []


def test_a_full_backlog_is_left_to_the_client(monkeypatch, clients):
    calls = _failing(monkeypatch, BlockingIOError(11, "Resource temporarily unavailable"))
    client = engine.connect(EngineSpec(url="unix:///run/x.sock", timeout=0.2))
    assert calls == [("/run/x.sock", 1)]
    assert [c["base_url"] for c in clients] == ["unix:///run/x.sock"]
    assert client is clients[0]


@pytest.mark.parametrize(
    "address", ["tcp://198.18.0.1:2375", "ssh://auditor@198.18.0.1", "http+unix:///x.sock"]
)
def test_tcp_ssh_and_other_addresses_are_not_probed(monkeypatch, clients, address):
    calls = _failing(monkeypatch, AssertionError("probed"))
    engine.connect(EngineSpec(url=address, timeout=0.2))
    assert calls == []
    assert [c["base_url"] for c in clients] == [address]
