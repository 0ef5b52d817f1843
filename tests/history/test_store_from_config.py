"""The config file's ``store`` selects the history store for scan, history and diff alike."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from auditor.cli import build_cli

DEMO = Path(__file__).resolve().parents[2] / "auditor" / "examples" / "demo-snapshot.json"


def test_config_store_is_used_by_scan_and_history(tmp_path, monkeypatch):
    monkeypatch.delenv("AUDITOR_STORE", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".auditor.toml").write_text('store = "state/history.sqlite3"\nfail-on = "none"\n')
    runner = CliRunner()
    for _ in range(2):
        scan = runner.invoke(build_cli(), ["scan", str(DEMO), "-q"])
        assert scan.exit_code == 0, scan.output
    assert (tmp_path / "state" / "history.sqlite3").is_file()
    history = runner.invoke(build_cli(), ["history", "-f", "json"])
    assert history.exit_code == 0, history.output
    assert len(json.loads(history.output)["scans"]) == 2
    diff = runner.invoke(build_cli(), ["diff", "-f", "json"])
    assert diff.exit_code == 0, diff.output
    summary = json.loads(diff.output)["summary"]
    assert summary["new"] == summary["resolved"] == 0 and summary["unchanged"] > 0


def test_an_empty_store_setting_is_an_input_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".auditor.toml").write_text('store = ""\n')
    result = CliRunner().invoke(build_cli(), ["scan", str(DEMO), "-q"])
    assert result.exit_code == 2
    assert ".auditor.toml:1: 'store' must be a non-empty string" in result.output
