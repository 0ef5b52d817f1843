"""The history schema as ordered migrations, shared by SQLite and PostgreSQL.

Each migration is a list of statements; ``{pk}`` becomes the dialect's auto-increment key and
nothing else differs between the two databases. Append new migrations, never edit old ones.
"""

from __future__ import annotations

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE scans (
            id {pk},
            started_at TEXT NOT NULL,
            duration_s DOUBLE PRECISION NOT NULL,
            tool_version TEXT NOT NULL,
            fail_on TEXT NOT NULL,
            verdict TEXT NOT NULL,
            complete INTEGER NOT NULL,
            source TEXT NOT NULL
        )""",
        """CREATE TABLE scan_targets (
            scan_id BIGINT NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            address TEXT NOT NULL,
            status TEXT NOT NULL,
            error TEXT,
            containers INTEGER NOT NULL,
            networks INTEGER NOT NULL,
            critical INTEGER NOT NULL,
            high INTEGER NOT NULL,
            medium INTEGER NOT NULL,
            low INTEGER NOT NULL,
            info INTEGER NOT NULL,
            PRIMARY KEY (scan_id, position)
        )""",
        "CREATE INDEX scan_targets_by_name ON scan_targets (name, scan_id)",
        """CREATE TABLE findings (
            scan_id BIGINT NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
            target TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            rule_id TEXT NOT NULL,
            severity TEXT NOT NULL,
            title TEXT NOT NULL,
            message TEXT NOT NULL,
            resource_kind TEXT NOT NULL,
            resource_name TEXT NOT NULL,
            project TEXT,
            status TEXT NOT NULL,
            location TEXT,
            evidence TEXT NOT NULL
        )""",
        "CREATE INDEX findings_by_scan ON findings (scan_id, target)",
        "CREATE INDEX findings_by_fingerprint ON findings (fingerprint)",
    ),
)

SCHEMA_VERSION = len(MIGRATIONS)
