"""Stores for the history tests: a fresh SQLite file, and a private PostgreSQL cluster.

The PostgreSQL server is Debian's (``postgresql`` in scripts/setup-env.sh), started by the
session fixture in a temporary directory on a free loopback port, as the ``postgres`` user when
the tests run as root (initdb refuses root), and stopped and deleted at the end.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def _as_cluster_owner(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


def _stop_leftover_clusters(bindir: Path) -> None:
    """Stop and delete clusters of test sessions that died before their teardown ran."""
    for workdir in Path(tempfile.gettempdir()).glob("auditor-pg-*-*"):
        try:
            pid = int(workdir.name.split("-")[2])
            os.kill(pid, 0)
            continue  # its session is still running
        except (ValueError, IndexError):
            continue
        except ProcessLookupError:
            pass
        except PermissionError:
            continue
        subprocess.run(
            _as_cluster_owner(
                [str(bindir / "pg_ctl"), "-D", str(workdir / "data"), "-m", "immediate", "-w", "stop"]
            ),
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server():
    """Base URL (no database) of a private PostgreSQL server on 127.0.0.1."""
    bindir = _pg_bindir()
    if bindir is None:
        if os.environ.get("AUDITOR_REQUIRE_ENGINE") == "1":
            pytest.fail("PostgreSQL server binaries are missing (scripts/setup-env.sh installs `postgresql`)")
        pytest.skip("no PostgreSQL server installed")
    pytest.importorskip("psycopg")
    _stop_leftover_clusters(bindir)
    workdir = Path(tempfile.mkdtemp(prefix=f"auditor-pg-{os.getpid()}-"))
    data, pwfile, log = workdir / "data", workdir / "pw", workdir / "log"
    password = secrets.token_hex(12)
    pwfile.write_text(password + "\n")
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres")
        shutil.chown(pwfile, "postgres")
    port = free_port()
    subprocess.run(
        _as_cluster_owner(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "auditor",
                "--auth=scram-sha-256",
                f"--pwfile={pwfile}",
                "-E",
                "UTF8",
            ]
        ),
        check=True,
        capture_output=True,
        timeout=120,
    )
    options = (
        f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={workdir} -c fsync=off"
    )
    subprocess.run(
        _as_cluster_owner(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(log),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ]
        ),
        check=True,
        capture_output=True,
        timeout=90,
    )
    try:
        yield f"postgresql://auditor:{password}@127.0.0.1:{port}"
    finally:
        subprocess.run(
            _as_cluster_owner([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server):
    """A fresh, empty database on the private server for one test."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{postgres_server}/postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    yield f"{postgres_server}/{name}"
    with psycopg.connect(f"{postgres_server}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    """Each history test runs once against SQLite and once against PostgreSQL."""
    if request.param == "sqlite":
        return str(tmp_path / "history.sqlite3")
    return request.getfixturevalue("postgres_url")
