"""A byte-level forwarder in front of the Docker socket, for watch and fleet tests.

It listens on a private unix socket or on 127.0.0.1 (optionally TLS-terminating with client
certificates, like ``dockerd --tlsverify``) and relays bytes to /var/run/docker.sock, so the
shared dockerd never needs a restart. ``drop()`` cuts every connection and stops listening
(a network outage); ``start()`` listens again on the same address.
"""

from __future__ import annotations

import contextlib
import select
import socket
import ssl
import subprocess
import threading
from pathlib import Path

UPSTREAM = "/var/run/docker.sock"


class Forwarder:
    def __init__(
        self, unix_path: str | None = None, tcp_port: int | None = None, tls: ssl.SSLContext | None = None
    ):
        self.unix_path = unix_path
        self.tcp_port = tcp_port
        self.tls = tls
        self._listener: socket.socket | None = None
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.accepted = 0

    @property
    def url(self) -> str:
        return f"unix://{self.unix_path}" if self.unix_path else f"tcp://127.0.0.1:{self.tcp_port}"

    def start(self) -> Forwarder:
        if self.unix_path:
            Path(self.unix_path).unlink(missing_ok=True)
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.bind(self.unix_path)
        else:
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", self.tcp_port or 0))
            self.tcp_port = sock.getsockname()[1]
        sock.listen(32)
        self._listener = sock
        threading.Thread(target=self._accept, args=(sock,), daemon=True).start()
        return self

    def drop(self) -> None:
        """Stop listening and cut every open connection."""
        with self._lock:
            listener, self._listener = self._listener, None
            conns, self._conns = self._conns, set()
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        for c in conns:
            with contextlib.suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)
            c.close()
        if self.unix_path:
            Path(self.unix_path).unlink(missing_ok=True)

    close = drop

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            if self.tls is not None:
                client = self.tls.wrap_socket(client, server_side=True)
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(UPSTREAM)
        except (OSError, ssl.SSLError):
            client.close()
            return
        with self._lock:
            if self._listener is None:
                client.close()
                upstream.close()
                return
            self._conns.update((client, upstream))
        try:
            self._pump(client, upstream)
        finally:
            for s in (client, upstream):
                with contextlib.suppress(OSError):
                    s.close()
            with self._lock:
                self._conns.difference_update((client, upstream))

    @staticmethod
    def _pump(a: socket.socket, b: socket.socket) -> None:
        """Relay both ways on one thread (an SSL socket must not be read and written concurrently)."""
        while True:
            ready = (
                [a] if isinstance(a, ssl.SSLSocket) and a.pending() else select.select([a, b], [], [], 1.0)[0]
            )
            for sock in ready:
                try:
                    data = sock.recv(65536)
                except (OSError, ssl.SSLError):
                    return
                if not data:
                    return
                try:
                    (b if sock is a else a).sendall(data)
                except OSError:
                    return


def make_certs(directory: Path) -> dict[str, str]:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl."""
    d = directory

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)

    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=auditor test CA",
        "-keyout",
        str(d / "ca-key.pem"),
        "-out",
        str(d / "ca.pem"),
    )
    for name, ext in (
        ("server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth"),
        ("client", "extendedKeyUsage=clientAuth"),
    ):
        (d / f"{name}.ext").write_text(ext + "\n")
        openssl(
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            f"/CN={name}",
            "-keyout",
            str(d / f"{name}-key.pem"),
            "-out",
            str(d / f"{name}.csr"),
        )
        openssl(
            "x509",
            "-req",
            "-in",
            str(d / f"{name}.csr"),
            "-CA",
            str(d / "ca.pem"),
            "-CAkey",
            str(d / "ca-key.pem"),
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            str(d / f"{name}.ext"),
            "-out",
            str(d / f"{name}.pem"),
        )
    return {k: str(d / f"{k}.pem") for k in ("ca", "server", "server-key", "client", "client-key")}


def server_context(certs: dict[str, str]) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(certs["server"], certs["server-key"])
    ctx.load_verify_locations(certs["ca"])
    ctx.verify_mode = ssl.CERT_REQUIRED  # like dockerd --tlsverify: clients need a certificate
    return ctx
