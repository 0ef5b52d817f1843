"""A minimal TCP connection-rate server and client (``python -m auditor.benchmarks.connrate``).

The client opens and closes connections for a fixed time and prints one JSON line. It closes
with SO_LINGER 0 (a reset) so repeated runs never run out of ports in TIME_WAIT. Both ends are
the same small Python loop in every mode, so the numbers compare modes, not TCP stacks.
"""

from __future__ import annotations

import argparse
import json
import socket
import struct
import sys
import time

_LINGER_RESET = struct.pack("ii", 1, 0)


def serve(port: int, host: str = "0.0.0.0") -> None:  # noqa: S104 - listens inside its own namespace
    """Accept and close connections until killed."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(4096)
    print("ready", flush=True)
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            continue
        conn.close()


def client(host: str, port: int, seconds: float, max_connections: int = 200_000) -> dict:
    """Connect and close as fast as one thread can for ``seconds``; count successes and errors."""
    count = errors = 0
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline and count < max_connections:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.settimeout(2.0)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
        try:
            sock.connect((host, port))
            count += 1
        except OSError:
            errors += 1
            if errors > 100 and count == 0:
                sock.close()
                return {
                    "connections": 0,
                    "seconds": time.perf_counter() - start,
                    "errors": errors,
                    "error": f"cannot connect to {host}:{port}",
                }
        finally:
            sock.close()
    return {"connections": count, "seconds": time.perf_counter() - start, "errors": errors}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="connrate")
    sub = parser.add_subparsers(dest="role", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--bind", default="0.0.0.0")  # noqa: S104
    c = sub.add_parser("client")
    c.add_argument("--host", required=True)
    c.add_argument("--port", type=int, required=True)
    c.add_argument("--seconds", type=float, required=True)
    args = parser.parse_args(argv)
    if args.role == "serve":
        serve(args.port, args.bind)
        return 0
    print(json.dumps(client(args.host, args.port, args.seconds)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
