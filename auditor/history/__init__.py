"""Scan history: every recorded scan, its targets and findings, in SQLite or PostgreSQL.

``open_store(spec)`` picks the backend from the ``--store`` value: ``postgresql://...`` (or
``postgres://``), a file path or ``sqlite:///path``, or ``None`` for the default SQLite file
in the user's data directory (``$AUDITOR_STORE`` overrides that default).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from auditor.history.store import POSTGRES, SQLITE, Store, StoreUnavailable
from auditor.model.errors import InputError
from auditor.model.history import FindingRecord, TargetScan

__all__ = ["FindingRecord", "Store", "StoreUnavailable", "TargetScan", "default_store_path", "open_store"]

STORE_ENV = "AUDITOR_STORE"


def user_data_dir() -> Path:
    """Where per-user data lives (platformdirs: ``$XDG_DATA_HOME/auditor`` or
    ``~/.local/share/auditor`` on Linux, the platform's usual folder elsewhere)."""
    from platformdirs import user_data_path

    return user_data_path("auditor", appauthor=False)


def default_store_path() -> Path:
    return user_data_dir() / "history.sqlite3"


def resolve_store_spec(spec: str | None, configured: str | None = None) -> str:
    """The store a command uses: the option, else ``$AUDITOR_STORE``, else the config file's
    ``store``, else the default file."""
    chosen = spec if spec not in (None, "", "default") else os.environ.get(STORE_ENV) or configured or None
    if chosen in (None, "default"):
        return str(default_store_path())
    return str(chosen)


def is_postgres(spec: str) -> bool:
    return spec.startswith(("postgresql://", "postgres://"))


def redact_url(spec: str) -> str:
    """The store as it may be printed: a password in a URL is replaced by ``***``."""
    if "://" not in spec or "@" not in spec:
        return spec
    scheme, rest = spec.split("://", 1)
    creds, _, host = rest.rpartition("@")
    if ":" in creds:
        creds = creds.split(":", 1)[0] + ":***"
    return f"{scheme}://{creds}@{host}"


def open_store(spec: str | None = None, migrate: bool = True, configured: str | None = None) -> Store:
    """Open (and by default migrate) the store named by ``spec``; see the module docstring."""
    resolved = resolve_store_spec(spec, configured)
    store = _open_postgres(resolved) if is_postgres(resolved) else _open_sqlite(resolved)
    if migrate:
        try:
            store.migrate()
        except BaseException:
            store.close()
            raise
    return store


def _open_sqlite(spec: str) -> Store:
    path = Path(spec[len("sqlite://") :] if spec.startswith("sqlite://") else spec).expanduser()
    if path.is_dir():
        raise InputError("history store must be a file, not a directory", str(path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), timeout=30, isolation_level=None)
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA journal_mode = WAL")
    except (OSError, sqlite3.Error) as exc:
        raise StoreUnavailable(f"history store {path}: {exc}") from None
    return Store(conn, SQLITE, str(path))


def _open_postgres(spec: str) -> Store:
    try:
        import psycopg
    except ImportError:
        raise InputError(
            "a PostgreSQL store needs psycopg: pip install 'docker-net-auditor[postgres]'"
        ) from None
    shown = redact_url(spec)
    try:
        conn = psycopg.connect(spec, connect_timeout=10, autocommit=True)
    except psycopg.Error as exc:
        text = str(exc).strip().splitlines()
        raise StoreUnavailable(f"history store {shown}: {text[0] if text else type(exc).__name__}") from None
    except ValueError as exc:
        raise InputError(f"history store {shown}: {exc}") from None
    return Store(conn, POSTGRES, shown)
