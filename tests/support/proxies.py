"""HTTP proxies on a unix socket in front of the real Docker socket, for hardening tests.

``DockerProxy`` forwards every request to ``/var/run/docker.sock`` and lets faults intervene:
drop the connection (the daemon restarting), answer late (timeouts), cut the body short,
answer 403 or 404, or rewrite ``/version`` (older and newer API versions). ``read_only_proxy``
forwards only GET and HEAD requests and records anything else as a violation, like the
socket proxies people put in front of the daemon for least privilege.

Everything listens on a unix socket in a private temporary directory: nothing leaves the host.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import socketserver
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

UPSTREAM = "/var/run/docker.sock"
UPSTREAM_TIMEOUT = 60.0
_VERSION_PREFIX = re.compile(r"^/v(\d+)\.(\d+)(/.*)$")
_HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection"}


@dataclass
class Request:
    """One request as the proxy saw it (``path`` without the ``/vX.Y`` prefix)."""

    method: str
    raw_path: str
    path: str
    api_version: str | None
    headers: dict[str, str]
    body: bytes
    number: int  # 1-based order of arrival


@dataclass
class Reply:
    """What the proxy sends back. ``drop`` closes the connection without an answer;
    ``send_bytes`` cuts the body after that many bytes while announcing its full length."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    drop: bool = False
    delay: float = 0.0
    send_bytes: int | None = None

    def json(self):
        return json.loads(self.body)


class Fault:
    """A fault hook. ``before`` may answer instead of the engine; ``after`` may alter the answer."""

    name = "fault"

    def __init__(self) -> None:
        self.injected = 0  # how many requests this fault changed

    def before(self, request: Request) -> Reply | None:
        return None

    def after(self, request: Request, reply: Reply) -> Reply:
        return reply

    def _hit(self) -> None:
        self.injected += 1


def _json_reply(status: int, doc) -> Reply:
    return Reply(status, {"Content-Type": "application/json"}, json.dumps(doc).encode())


class DropConnections(Fault):
    """The daemon restarts: from the ``after``-th matching request on, connections are closed
    without an answer for ``down_for`` seconds (then the engine answers again)."""

    name = "daemon restart (connections dropped)"

    def __init__(self, after: int, match: str = r".*", down_for: float = 5.0):
        super().__init__()
        self.after_n = after
        self.match = re.compile(match)
        self.down_for = down_for
        self.seen = 0
        self.down_since: float | None = None
        self._lock = threading.Lock()

    def before(self, request: Request) -> Reply | None:
        with self._lock:
            if self.down_since is not None:
                if time.monotonic() - self.down_since < self.down_for:
                    self._hit()
                    return Reply(0, drop=True)
                return None
            if not self.match.search(request.path):
                return None
            self.seen += 1
            if self.seen >= self.after_n:
                self.down_since = time.monotonic()
                self._hit()
                return Reply(0, drop=True)
        return None


class Hang(Fault):
    """Matching requests are answered only after ``seconds`` (longer than the client waits)."""

    name = "slow/hanging response"

    def __init__(self, match: str, seconds: float, method: str = "GET"):
        super().__init__()
        self.match = re.compile(match)
        self.seconds = seconds
        self.method = method

    def after(self, request: Request, reply: Reply) -> Reply:
        if request.method == self.method and self.match.search(request.path):
            self._hit()
            reply.delay = self.seconds
        return reply


class Truncate(Fault):
    """Matching answers are cut short: ``mode="length"`` announces the full length and then
    closes early; ``mode="json"`` sends half a JSON document with a matching length."""

    name = "truncated response"

    def __init__(self, match: str, mode: str = "length"):
        super().__init__()
        self.match = re.compile(match)
        self.mode = mode

    def after(self, request: Request, reply: Reply) -> Reply:
        if not self.match.search(request.path) or len(reply.body) < 2:
            return reply
        self._hit()
        half = len(reply.body) // 2
        if self.mode == "length":
            reply.send_bytes = half
        else:
            reply.body = reply.body[:half]
        return reply


class Status(Fault):
    """Matching requests get an error status with the engine's JSON error shape."""

    name = "error status"

    def __init__(self, match: str, status: int, message: str, after: int = 0):
        super().__init__()
        self.match = re.compile(match)
        self.status = status
        self.message = message
        self.name = f"HTTP {status}"
        self.after_n = after  # let this many matching requests through first
        self.seen = 0
        self._lock = threading.Lock()

    def before(self, request: Request) -> Reply | None:
        if not self.match.search(request.path):
            return None
        with self._lock:
            self.seen += 1
            if self.seen <= self.after_n:
                return None
        self._hit()
        return _json_reply(self.status, {"message": self.message})


class Vanish(Fault):
    """Objects removed between list and inspect: inspects of the given ids answer 404."""

    name = "object vanished between list and inspect"

    def __init__(self, kind: str, ids: Callable[[], set[str]]):
        super().__init__()
        self.kind = kind  # containers | networks
        self.ids = ids

    def before(self, request: Request) -> Reply | None:
        m = re.match(rf"^/{self.kind}/([^/?]+)(/json)?(\?.*)?$", request.path)
        if not m or request.method != "GET" or m.group(1) == "json":
            return None
        wanted = m.group(1)
        if any(i.startswith(wanted) or wanted.startswith(i) for i in self.ids()):
            self._hit()
            noun = "container" if self.kind == "containers" else "network"
            return _json_reply(404, {"message": f"No such {noun}: {wanted}"})
        return None


class ApiVersion(Fault):
    """Pretend to be an engine of another API version: ``/version`` says so, and requests for
    a version above what the real engine speaks are forwarded at the real engine's version."""

    name = "API version rewritten"

    def __init__(self, api_version: str, server_version: str, min_version: str = "1.12", real: str = "1.41"):
        super().__init__()
        self.api_version = api_version
        self.server_version = server_version
        self.min_version = min_version
        self.real = tuple(int(p) for p in real.split("."))
        self.requested: set[str] = set()

    def before(self, request: Request) -> Reply | None:
        if request.api_version:
            self.requested.add(request.api_version)
        return None

    def upstream_path(self, request: Request) -> str:
        if request.api_version and tuple(int(p) for p in request.api_version.split(".")) > self.real:
            return "/v{}.{}{}".format(*self.real, request.path)
        return request.raw_path

    def after(self, request: Request, reply: Reply) -> Reply:
        if request.path.startswith("/version") and reply.status == 200:
            doc = reply.json()
            doc.update(
                ApiVersion=self.api_version, Version=self.server_version, MinAPIVersion=self.min_version
            )
            reply.body = json.dumps(doc).encode()
            self._hit()
        if "Api-Version" in reply.headers:
            reply.headers["Api-Version"] = self.api_version
        return reply


class RejectWrites(Fault):
    """The read-only policy: anything but GET/HEAD is refused with 403 and recorded."""

    name = "write refused by read-only proxy"

    def __init__(self) -> None:
        super().__init__()
        self.violations: list[str] = []

    def before(self, request: Request) -> Reply | None:
        if request.method in ("GET", "HEAD"):
            return None
        self._hit()
        self.violations.append(f"{request.method} {request.raw_path}")
        return _json_reply(403, {"message": f"read-only proxy: {request.method} is not allowed"})


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.unix_path)
        self.sock = sock


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128  # the client opens several connections at once (EAGAIN otherwise)
    proxy: DockerProxy


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format, *args) -> None:  # noqa: A002 - keep test output quiet
        pass

    def address_string(self) -> str:
        return "unix"

    def _handle(self) -> None:
        self.server.proxy._serve(self)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = _handle


class DockerProxy:
    """A forwarding proxy with fault hooks; use as a context manager. ``url`` is for --engine."""

    def __init__(self, faults: tuple[Fault, ...] = (), upstream: str = UPSTREAM):
        self.faults = tuple(faults)
        self.upstream = upstream
        self.requests: list[Request] = []
        self.errors: list[str] = []  # exceptions inside the proxy itself (tests assert none)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._dir = tempfile.TemporaryDirectory(prefix="auditor-proxy-")
        self.path = str(Path(self._dir.name) / "docker.sock")
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.path}"

    @property
    def injected(self) -> int:
        return sum(f.injected for f in self.faults)

    def methods(self) -> set[str]:
        return {r.method for r in self.requests}

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    def start(self) -> DockerProxy:
        server = _Server(self.path, _Handler)
        server.proxy = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()  # releases hanging answers
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._dir.cleanup()

    def __enter__(self) -> DockerProxy:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # -- one exchange -------------------------------------------------------------------
    def _read_request(self, handler: _Handler) -> Request:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        m = _VERSION_PREFIX.match(handler.path)
        path, version = (m.group(3), f"{m.group(1)}.{m.group(2)}") if m else (handler.path, None)
        with self._lock:
            request = Request(
                handler.command,
                handler.path,
                path,
                version,
                dict(handler.headers.items()),
                body,
                len(self.requests) + 1,
            )
            self.requests.append(request)
        return request

    def _forward(self, request: Request) -> Reply:
        path = request.raw_path
        for fault in self.faults:
            if isinstance(fault, ApiVersion):
                path = fault.upstream_path(request)
        conn = _UnixHTTPConnection(self.upstream, UPSTREAM_TIMEOUT)
        try:
            headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS}
            if request.body:
                headers["Content-Length"] = str(len(request.body))
            conn.request(request.method, path, body=request.body or None, headers=headers)
            resp = conn.getresponse()
            body = resp.read()
            out = {k: v for k, v in resp.getheaders() if k.lower() not in _HOP_HEADERS}
            return Reply(resp.status, out, body)
        finally:
            conn.close()

    def _serve(self, handler: _Handler) -> None:
        try:
            self._exchange(handler)
        except Exception as exc:  # noqa: BLE001 - a proxy bug must show in the test, not as a fault
            self.errors.append(f"{type(exc).__name__}: {exc}")
            raise

    def _exchange(self, handler: _Handler) -> None:
        request = self._read_request(handler)
        reply = None
        for fault in self.faults:
            reply = fault.before(request)
            if reply is not None:
                break
        if reply is None and request.method == "GET" and request.path.startswith("/events"):
            self._stream(handler, request)  # endless: relayed as it comes, faults do not apply
            return
        if reply is None:
            try:
                reply = self._forward(request)
            except OSError as exc:
                reply = _json_reply(502, {"message": f"proxy: upstream failed: {exc}"})
            for fault in self.faults:
                reply = fault.after(request, reply)
        self._send(handler, request, reply)

    def _stream(self, handler: _Handler, request: Request) -> None:
        """Relay a streaming answer (``/events``) chunk by chunk until either side or the proxy stops."""
        conn = _UnixHTTPConnection(self.upstream, UPSTREAM_TIMEOUT)
        try:
            headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS}
            conn.request("GET", request.raw_path, headers=headers)
            resp = conn.getresponse()
            handler.send_response_only(resp.status)
            for key, value in resp.getheaders():
                if key.lower() not in _HOP_HEADERS:
                    handler.send_header(key, value)
            handler.send_header("Transfer-Encoding", "chunked")
            handler.end_headers()
            handler.close_connection = True
            conn.sock.settimeout(0.2)
            while not self._stop.is_set():
                try:
                    chunk = resp.read1(65536)
                except TimeoutError:
                    continue
                if not chunk:
                    break
                handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                handler.wfile.flush()
            handler.wfile.write(b"0\r\n\r\n")
        except OSError:
            handler.close_connection = True
        finally:
            conn.close()

    def _send(self, handler: _Handler, request: Request, reply: Reply) -> None:
        if reply.delay and self._stop.wait(reply.delay):
            reply.drop = True  # the proxy is closing: stop hanging
        if reply.drop:
            handler.close_connection = True
            try:
                handler.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        handler.send_response_only(reply.status)
        for key, value in reply.headers.items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(reply.body)))
        if reply.send_bytes is not None:
            handler.send_header("Connection", "close")
            handler.close_connection = True
        handler.end_headers()
        body = reply.body if request.method != "HEAD" else b""
        if reply.send_bytes is not None:
            body = body[: reply.send_bytes]
        try:
            handler.wfile.write(body)
            handler.wfile.flush()
        except OSError:
            handler.close_connection = True


@contextmanager
def docker_proxy(*faults: Fault) -> Iterator[DockerProxy]:
    """A started proxy with these faults, closed afterwards."""
    with DockerProxy(faults) as proxy:
        yield proxy


@contextmanager
def read_only_proxy() -> Iterator[tuple[DockerProxy, RejectWrites]]:
    """A GET-only proxy; the caller asserts ``policy.violations`` is empty."""
    policy = RejectWrites()
    with DockerProxy((policy,)) as proxy:
        yield proxy, policy
