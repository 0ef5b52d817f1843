"""A fake /proc for the daemon lookup and the host-facts reader (no root, no real daemons).

Processes get ``comm``, ``cmdline``, ``status``, ``environ``, socket fds, a network namespace
and a root (one shared directory standing in for the machine's filesystem); each namespace gets
its own ``net/unix``, ``net/tcp{,6}``, ``fib_trie`` and ``if_inet6``, written by ``write()``.
"""

from __future__ import annotations

import os
from pathlib import Path

from auditor.collectors.daemon_process import find_daemon

UNIX_HEADER = "Num       RefCount Protocol Flags    Type St Inode Path\n"
TCP_HEADER = (
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
)


class FakeProc:
    """A /proc tree: processes with comm, cmdline, fds, a root, a namespace; per-namespace tables."""

    def __init__(self, tmp: Path) -> None:
        self.proc = tmp / "proc"
        self.root = tmp / "root"
        self.netns_dir = tmp / "netns"
        for d in (self.proc, self.root, self.netns_dir):
            d.mkdir()
        self.tables: dict[int, dict[str, str]] = {}
        self.members: dict[int, list[Path]] = {}

    def namespace(self, name: str | None = None) -> int:
        """A network namespace; a named one has a file in the netns dir whose inode is its id."""
        if name:
            (self.netns_dir / name).write_text("")
            inode = (self.netns_dir / name).stat().st_ino
        else:
            inode = 4026531000 + len(self.tables)
        self.tables[inode] = {
            "unix": UNIX_HEADER,
            "tcp": TCP_HEADER,
            "tcp6": TCP_HEADER,
            "fib_trie": "",
            "if_inet6": "",
        }
        return inode

    def process(
        self, pid: int, comm: str, argv: list[str], netns: int, sockets=(), uid=0, environ=None
    ) -> None:
        d = self.proc / str(pid)
        (d / "fd").mkdir(parents=True)
        (d / "ns").mkdir()
        (d / "net").mkdir()
        (d / "comm").write_text(comm + "\n")
        (d / "cmdline").write_bytes(b"".join(a.encode() + b"\0" for a in argv))
        (d / "status").write_text(f"Name:\t{comm}\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\n")
        (d / "environ").write_bytes(b"".join(f"{k}={v}".encode() + b"\0" for k, v in (environ or {}).items()))
        os.symlink(f"net:[{netns}]", d / "ns" / "net")
        os.symlink(self.root, d / "root")
        os.symlink(self.root, d / "cwd")
        os.symlink(f"/usr/bin/{comm}", d / "exe")
        for fd, inode in enumerate(sockets, start=3):
            os.symlink(f"socket:[{inode}]", d / "fd" / str(fd))
        self.members.setdefault(netns, []).append(d / "net")

    def scanner(self, pid: int, netns: int) -> None:
        self.process(pid, "python3", ["python3"], netns)
        os.symlink(str(pid), self.proc / "self")

    def unix(self, netns: int, inode: int, path: str, listening: bool = True) -> None:
        flags, state = ("00010000", "01") if listening else ("00000000", "03")
        self.tables[netns]["unix"] += (
            f"0000000000000000: 00000002 00000000 {flags} 0001 {state} {inode} {path}\n"
        )
        if path.startswith("/"):
            target = self.root / path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.touch()

    def tcp(self, netns: int, inode: int, hex_addr: str, port: int, v6: bool = False) -> None:
        row = f"   0: {hex_addr}:{port:04X} {'0' * len(hex_addr)}:0000 0A 00000000:00000000 00:00000000 00000000 0 0 {inode} 1\n"
        self.tables[netns]["tcp6" if v6 else "tcp"] += row

    def local(self, netns: int, *addresses: str) -> None:
        self.tables[netns]["fib_trie"] += "".join(
            f"     |-- {a}\n        /32 host LOCAL\n" for a in addresses
        )

    def write(self) -> FakeProc:
        for netns, dirs in self.members.items():
            for net in dirs:
                for name, text in self.tables[netns].items():
                    (net / name).write_text(text)
        return self

    def lookup(self, address: str):
        return find_daemon(address, self.proc, self.netns_dir)


def socat_in_front(tmp: Path) -> FakeProc:
    """A dockerd on /run/docker.sock (pid 200) and socat (pid 400) serving /run/ro.sock in
    front of it, all in the scanner's namespace: a socket proxy."""
    fake = FakeProc(tmp)
    ns = fake.namespace()
    fake.scanner(100, ns)
    fake.process(200, "dockerd", ["dockerd"], ns, sockets=[5000])
    fake.process(
        400, "socat", ["socat", "UNIX-LISTEN:/run/ro.sock,fork", "UNIX:/run/docker.sock"], ns, sockets=[8000]
    )
    fake.unix(ns, 5000, "/run/docker.sock")
    fake.unix(ns, 8000, "/run/ro.sock")
    return fake.write()
