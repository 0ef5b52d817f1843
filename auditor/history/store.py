"""The history store: one class over a DB-API connection, with a small dialect per database.

SQLite (the embedded default) and PostgreSQL run the same SQL, the same migrations and the
same queries; only placeholders, the key type and locking differ.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from auditor.history.schema import MIGRATIONS, SCHEMA_VERSION
from auditor.model.errors import InputError, TargetUnavailable
from auditor.model.findings import ScanResult
from auditor.model.history import SEVERITY_LABELS, FindingRecord, TargetScan, target_counts


class StoreUnavailable(TargetUnavailable):
    """The history database cannot be reached or written (exit 3)."""


@dataclass(frozen=True)
class Dialect:
    name: str
    pk: str
    placeholder: str


SQLITE = Dialect("sqlite", "INTEGER PRIMARY KEY AUTOINCREMENT", "?")
POSTGRES = Dialect("postgresql", "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "%s")

_TARGET_COLUMNS = (
    "s.id, s.started_at, s.duration_s, s.tool_version, s.verdict, s.source, t.name, t.kind, "
    "t.address, t.status, t.error, t.containers, t.networks, "
    + ", ".join(f"t.{label}" for label in SEVERITY_LABELS)
)
_FINDING_COLUMNS = (
    "fingerprint, rule_id, severity, title, message, resource_kind, resource_name, project, "
    "target, status, location, evidence"
)


class Store:
    """Records scans and answers the questions ``history``, ``diff`` and ``watch`` ask."""

    def __init__(self, conn: Any, dialect: Dialect, description: str):
        self.conn = conn
        self.dialect = dialect
        self.description = description

    # -- plumbing -------------------------------------------------------------------------
    def _sql(self, sql: str) -> str:
        return sql.replace("?", self.dialect.placeholder) if self.dialect.placeholder != "?" else sql

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Any]:
        """One transaction; database errors become one-line store errors."""
        try:
            if self.dialect is SQLITE:
                cur = self.conn.cursor()
                cur.execute("BEGIN IMMEDIATE")
                try:
                    yield cur
                except BaseException:
                    self.conn.rollback()
                    raise
                self.conn.commit()
            else:
                with self.conn.transaction(), self.conn.cursor() as cur:
                    yield cur
        except (sqlite3.Error, _pg_error()) as exc:
            raise StoreUnavailable(f"history store {self.description}: {_first_line(exc)}") from None

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        with self._transaction() as cur:
            cur.execute(self._sql(sql), tuple(params))
            return list(cur.fetchall())

    def migrate(self) -> int:
        """Bring the schema up to date; safe when several scanners start at once."""
        with self._transaction() as cur:
            if self.dialect is POSTGRES:
                cur.execute("SELECT pg_advisory_xact_lock(727272)")
            cur.execute("CREATE TABLE IF NOT EXISTS auditor_schema (version INTEGER NOT NULL)")
            cur.execute("SELECT MAX(version) FROM auditor_schema")
            current = cur.fetchone()[0] or 0
            if current > SCHEMA_VERSION:
                raise InputError(
                    f"history store {self.description} has schema version {current}, newer than this "
                    f"auditor knows ({SCHEMA_VERSION}); upgrade auditor"
                )
            for version in range(current + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[version - 1]:
                    cur.execute(statement.format(pk=self.dialect.pk))
                cur.execute(self._sql("INSERT INTO auditor_schema (version) VALUES (?)"), (version,))
            return SCHEMA_VERSION

    def schema_version(self) -> int:
        return self._query("SELECT MAX(version) FROM auditor_schema")[0][0] or 0

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing --------------------------------------------------------------------------
    def record(self, result: ScanResult, source: str = "scan") -> int:
        """Store one scan with its targets and findings; returns the new scan id."""
        fail_on = result.fail_on.label if result.fail_on is not None else "none"
        with self._transaction() as cur:
            params = (
                result.started_at.isoformat(),
                result.duration_s,
                result.tool_version,
                fail_on,
                result.verdict,
                int(result.complete),
                source,
            )
            insert = (
                "INSERT INTO scans (started_at, duration_s, tool_version, fail_on, verdict, "
                "complete, source) VALUES (?, ?, ?, ?, ?, ?, ?)"
            )
            if self.dialect is SQLITE:
                cur.execute(insert, params)
                scan_id = int(cur.lastrowid)
            else:
                cur.execute(self._sql(insert + " RETURNING id"), params)
                scan_id = int(cur.fetchone()[0])
            for position, t in enumerate(result.targets):
                counts = target_counts(result, t.target.name)
                cur.execute(
                    self._sql(
                        "INSERT INTO scan_targets (scan_id, position, name, kind, address, status, error, "  # noqa: S608 - constant columns; values are bound
                        "containers, networks, "
                        + ", ".join(SEVERITY_LABELS)
                        + ") VALUES ("
                        + ", ".join("?" * (9 + len(SEVERITY_LABELS)))
                        + ")"
                    ),
                    (
                        scan_id,
                        position,
                        t.target.name,
                        t.target.kind.value,
                        t.target.address,
                        t.status,
                        t.error,
                        t.containers,
                        t.networks,
                        *(counts[s] for s in SEVERITY_LABELS),
                    ),
                )
            rows = [FindingRecord.from_finding(f) for f in result.findings]
            if rows:
                cur.executemany(
                    self._sql(
                        f"INSERT INTO findings (scan_id, {_FINDING_COLUMNS}) VALUES ("  # noqa: S608 - constant columns; values are bound
                        + ", ".join("?" * 13)
                        + ")"
                    ),
                    [
                        (
                            scan_id,
                            r.fingerprint,
                            r.rule_id,
                            r.severity,
                            r.title,
                            r.message,
                            r.resource_kind,
                            r.resource_name,
                            r.project,
                            r.target,
                            r.status,
                            r.location,
                            r.evidence_json(),
                        )
                        for r in rows
                    ],
                )
        return scan_id

    # -- reading --------------------------------------------------------------------------
    def target_scans(
        self, target: str | None = None, limit: int | None = None, only_complete: bool = False
    ) -> list[TargetScan]:
        """Newest first: one row per target per scan."""
        where, params = [], []
        if target is not None:
            where.append("t.name = ?")
            params.append(target)
        if only_complete:
            where.append("t.status = 'complete'")
        sql = (
            f"SELECT {_TARGET_COLUMNS} FROM scans s JOIN scan_targets t ON t.scan_id = s.id"  # noqa: S608 - constant columns; values are bound
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY s.id DESC, t.position"
        )
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [_target_scan(row) for row in self._query(sql, params)]

    def scan_targets(self, scan_id: int) -> list[TargetScan]:
        sql = (
            f"SELECT {_TARGET_COLUMNS} FROM scans s JOIN scan_targets t ON t.scan_id = s.id "  # noqa: S608 - constant columns; values are bound
            "WHERE s.id = ? ORDER BY t.position"
        )
        return [_target_scan(row) for row in self._query(sql, (scan_id,))]

    def has_scan(self, scan_id: int) -> bool:
        return bool(self._query("SELECT 1 FROM scans WHERE id = ?", (scan_id,)))

    def target_names(self) -> list[str]:
        return [r[0] for r in self._query("SELECT DISTINCT name FROM scan_targets ORDER BY name")]

    def findings(self, scan_id: int, target: str | None = None) -> list[FindingRecord]:
        sql = f"SELECT {_FINDING_COLUMNS} FROM findings WHERE scan_id = ?"  # noqa: S608 - constant columns; values are bound
        params: list[Any] = [scan_id]
        if target is not None:
            sql += " AND target = ?"
            params.append(target)
        sql += " ORDER BY rule_id, target, resource_name, fingerprint"
        return [_finding(row) for row in self._query(sql, params)]


def _target_scan(row: Sequence[Any]) -> TargetScan:
    counts = tuple(zip(SEVERITY_LABELS, (int(n) for n in row[13 : 13 + len(SEVERITY_LABELS)]), strict=True))
    return TargetScan(
        scan_id=int(row[0]),
        started_at=str(row[1]),
        duration_s=float(row[2]),
        tool_version=row[3],
        verdict=row[4],
        source=row[5],
        target=row[6],
        kind=row[7],
        address=row[8],
        status=row[9],
        error=row[10],
        containers=int(row[11]),
        networks=int(row[12]),
        counts=counts,
    )


def _finding(row: Sequence[Any]) -> FindingRecord:
    import json

    evidence = json.loads(row[11]) if row[11] else {}
    return FindingRecord(
        fingerprint=row[0],
        rule_id=row[1],
        severity=row[2],
        title=row[3],
        message=row[4],
        resource_kind=row[5],
        resource_name=row[6],
        project=row[7],
        target=row[8],
        status=row[9],
        location=row[10],
        evidence=tuple((str(k), str(v)) for k, v in evidence.items()),
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _pg_error() -> type[BaseException]:
    """psycopg's base error when psycopg is installed (a class that never matches otherwise)."""
    try:
        import psycopg
    except ImportError:
        return _NeverRaised
    return psycopg.Error


class _NeverRaised(Exception):
    pass
