"""A file named beside a directory is audited once: within the directory's project, else alone."""

from __future__ import annotations

from pathlib import Path

from auditor.collectors.compose import collect_compose
from auditor.collectors.request import ComposeOptions

WEB = "services:\n  web:\n    image: nginx\n    ports: ['80:80']\n"


def targets(tmp_path: Path, *paths: str, monkeypatch) -> list[tuple[str, str]]:
    monkeypatch.chdir(tmp_path)
    return [
        (c.target.address, c.error and str(c.error) or "")
        for c in collect_compose([Path(p) for p in paths], ComposeOptions())
    ]


def test_a_named_file_that_discovery_reads_is_not_audited_twice(tmp_path, monkeypatch):
    (tmp_path / "compose.yaml").write_text(WEB)
    (tmp_path / "compose.override.yaml").write_text("services:\n  web:\n    ports: ['81:81']\n")
    (tmp_path / "compose.prod.yaml").write_text(WEB)
    found = targets(
        tmp_path,
        ".",
        "compose.yaml",
        "compose.override.yaml",
        "compose.prod.yaml",
        ".",
        monkeypatch=monkeypatch,
    )
    assert found == [("compose.yaml", ""), ("compose.prod.yaml", "")]


def test_a_named_file_alone_is_still_audited(tmp_path, monkeypatch):
    (tmp_path / "compose.yaml").write_text(WEB)
    assert targets(tmp_path, "compose.yaml", monkeypatch=monkeypatch) == [("compose.yaml", "")]
