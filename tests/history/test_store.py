"""The history store on SQLite and PostgreSQL: the same schema, migrations and answers."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime

import pytest
from auditor.rules import port001_all_interfaces, port002_sensitive_service
from click.testing import CliRunner

from auditor.audit.pipeline import evaluate
from auditor.collectors.base import Collected
from auditor.commands.diff import diff_command
from auditor.commands.history import history_command
from auditor.history import StoreUnavailable, open_store, redact_url, resolve_store_spec
from auditor.history.schema import SCHEMA_VERSION
from auditor.model.errors import InputError
from auditor.model.severity import Severity

from ..support.builders import TARGET, container, port, snapshot
from .conftest import free_port

RULES = (port001_all_interfaces.RULE, port002_sensitive_service.RULE)


def result_of(*containers, fail_on=Severity.HIGH):
    snap = snapshot(*containers)
    return evaluate([Collected(snap.target, snap)], RULES, fail_on, datetime.now(UTC), time.monotonic())


def test_record_and_read_back(store_url):
    result = result_of(container("web", ports=[port(80)]), container("db", ports=[port(5432)]))
    with open_store(store_url) as db:
        scan_id = db.record(result)
        (row,) = db.target_scans()
        stored = db.findings(scan_id)
    assert row.scan_id == scan_id and row.target == TARGET.name and row.status == "complete"
    assert row.verdict == result.verdict and row.tool_version == result.tool_version
    assert dict(row.counts) == {k: v for k, v in result.counts().items() if k != "total"}
    assert sorted(f.fingerprint for f in stored) == sorted(f.fingerprint for f in result.findings)
    web = next(f for f in stored if f.resource_name == "web" and f.rule_id == "PORT001")
    original = next(f for f in result.findings if f.fingerprint == web.fingerprint)
    assert web.message == original.message and dict(web.evidence) == dict(original.evidence)


def test_migrations_run_once_and_a_newer_schema_is_refused(store_url):
    with open_store(store_url) as db:
        assert db.schema_version() == SCHEMA_VERSION
        db.record(result_of(container("web", ports=[port(80)])))
    with open_store(store_url) as db:  # a second open migrates nothing and keeps the data
        assert db.schema_version() == SCHEMA_VERSION and len(db.target_scans()) == 1
        with db._transaction() as cur:
            cur.execute(db._sql("INSERT INTO auditor_schema (version) VALUES (?)"), (SCHEMA_VERSION + 1,))
    with pytest.raises(InputError, match=f"has schema version {SCHEMA_VERSION + 1}, newer than this auditor"):
        open_store(store_url)


def test_history_and_diff_commands_on_recorded_scans(store_url):
    with open_store(store_url) as db:
        first = db.record(result_of(container("web", ports=[port(80)]), container("db", ports=[port(5432)])))
        second = db.record(result_of(container("web", ports=[port(80), port(6379)])))
    listed = CliRunner().invoke(history_command, ["--store", store_url])
    assert listed.exit_code == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split()[:5] == ["scan", "started", "(UTC)", "target", "status"]
    assert [ln.split()[0] for ln in lines[1:]] == [str(second), str(first)]
    out = CliRunner().invoke(diff_command, ["--store", store_url, str(first), str(second), "-f", "json"])
    assert out.exit_code == 0, out.stderr
    import json

    diff = json.loads(out.stdout)
    assert {
        (f["rule_id"], f["resource"]["name"], f["evidence"].get("binding")) for f in diff["new_findings"]
    } >= {("PORT002", "web", "0.0.0.0:6379->6379/tcp")}
    assert {f["resource"]["name"] for f in diff["new_findings"]} == {"web"}
    assert {f["resource"]["name"] for f in diff["resolved_findings"]} == {"db"}
    assert diff["summary"]["unchanged"] == 1  # web's port 80


def test_diff_needs_two_scans_and_names_unknown_ones(store_url):
    with open_store(store_url) as db:
        db.record(result_of(container("web", ports=[port(80)])))
    one = CliRunner().invoke(diff_command, ["--store", store_url])
    assert one.exit_code == 2
    assert one.stderr.strip() == (
        f"auditor: error: target '{TARGET.name}' has fewer than two complete scans in {redact_url(store_url)}"
    )
    missing = CliRunner().invoke(diff_command, ["--store", store_url, "1", "99"])
    assert missing.exit_code == 2 and "no scan 99 in" in missing.stderr


def test_an_unreachable_postgresql_store_is_exit_3_without_the_password():
    url = f"postgresql://auditor:s3cret@127.0.0.1:{free_port()}/x"
    pytest.importorskip("psycopg")
    result = CliRunner().invoke(history_command, ["--store", url])
    assert result.exit_code == 3
    assert result.stderr.startswith("auditor: error: history store postgresql://auditor:***@127.0.0.1:")
    assert "s3cret" not in result.stderr
    with pytest.raises(StoreUnavailable):
        open_store(url)


def test_a_file_that_is_not_a_database_is_exit_3(tmp_path):
    bogus = tmp_path / "notes.sqlite3"
    bogus.write_text("this is not SQLite " * 100)
    result = CliRunner().invoke(history_command, ["--store", str(bogus)])
    assert result.exit_code == 3
    assert result.stderr.strip() == f"auditor: error: history store {bogus}: file is not a database"


def test_default_store_follows_xdg_and_env(monkeypatch, tmp_path):
    monkeypatch.delenv("AUDITOR_STORE", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert resolve_store_spec(None) == str(tmp_path / "auditor" / "history.sqlite3")
    assert resolve_store_spec("default") == str(tmp_path / "auditor" / "history.sqlite3")
    monkeypatch.setenv("AUDITOR_STORE", "postgresql://h/db")
    assert resolve_store_spec(None) == "postgresql://h/db"
    assert resolve_store_spec("/x.db") == "/x.db"
    assert redact_url("postgresql://u:pw@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert redact_url("postgresql://h/db") == "postgresql://h/db"


def test_sqlite_store_is_a_plain_sqlite_file(tmp_path):
    path = tmp_path / "h.sqlite3"
    with open_store(f"sqlite://{path}") as db:
        db.record(result_of(container("web", ports=[port(80)])))
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM findings").fetchone()[0] == 1
