"""A scanned repository's config must not write (or read) outside the repository.

``.auditor.toml`` and ``[tool.auditor]`` are picked up from the working directory, which in CI is
the checkout being scanned: its author chooses them. Settings that write (``outputs``, ``store``)
and settings that read (``waivers``, ``baseline``) are confined to that directory; a store URL
is refused. A config the user names with ``--config`` is the user's own and may point anywhere.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hardening.harness import record, run_bounded, tree_state

SERVICE = 'services:\n  "$(touch /tmp/pwned)":\n    image: nginx\n    ports: ["8080:80"]\n'


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Path, Path]:
    """A repository and, beside it, a directory the repository must not touch."""
    repo, outside = tmp_path / "repo", tmp_path / "outside"
    repo.mkdir()
    outside.mkdir()
    (outside / "secret.json").write_text('{"password": "hunter2"}')
    (repo / "compose.yaml").write_text(SERVICE)
    (repo / "escape").symlink_to(outside)
    return repo, outside


def _escapes(outside: Path) -> dict[str, str]:
    return {
        "absolute output": f'outputs = ["{outside}/run.sh"]',
        "formatted absolute output": f'outputs = ["table:{outside}/run.sh"]',
        "output above the repository": 'outputs = ["../outside/run.sh"]',
        "output through a symlink": 'outputs = ["escape/run.sh"]',
        "output in a new directory outside": f'outputs = ["{outside}/new/dir/run.sh"]',
        "absolute store": f'store = "{outside}/history.sqlite3"',
        "store above the repository": 'store = "../outside/history.sqlite3"',
        "store URL": 'store = "postgresql://attacker.invalid/db"',
        "waivers outside": f'waivers = "{outside}/secret.json"',
        "baseline through a symlink": 'baseline = "escape/secret.json"',
        "home-relative output": 'outputs = ["~/run.sh"]',
    }


CASES = sorted(_escapes(Path("/x")))


@pytest.mark.parametrize("as_pyproject", [False, True], ids=["auditor.toml", "pyproject"])
@pytest.mark.parametrize("case", CASES)
def test_repository_config_cannot_leave_the_repository(layout, case: str, as_pyproject: bool) -> None:
    repo, outside = layout
    setting = _escapes(outside)[case]
    if as_pyproject:
        (repo / "pyproject.toml").write_text(f'[project]\nname = "x"\n\n[tool.auditor]\n{setting}\n')
        config_name = "pyproject.toml"
    else:
        (repo / ".auditor.toml").write_text(f"# repository settings\n{setting}\n")
        config_name = ".auditor.toml"
    before_repo, before_outside = tree_state(repo), tree_state(outside)
    proc = run_bounded("scan", ".", cwd=repo)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1, proc.stderr
    line_no = 5 if as_pyproject else 2
    assert lines[0].startswith(f"auditor: error: {config_name}:{line_no}: "), lines[0]
    assert "outside the repository" in lines[0] or "may not name a URL" in lines[0]
    assert "hunter2" not in proc.stderr + proc.stdout
    assert tree_state(outside) == before_outside
    assert tree_state(repo) == before_repo
    assert not Path("/tmp/pwned").exists()
    record("repository config", f"{case} ({config_name})", "exit 2, nothing written", inputs=1)


def test_repository_config_may_write_inside(layout) -> None:
    repo, _ = layout
    (repo / ".auditor.toml").write_text(
        'outputs = ["reports/scan.json", "json:reports/again.json"]\nstore = "state/history.sqlite3"\n'
    )
    proc = run_bounded("scan", ".", "-q", "--fail-on", "none", cwd=repo, seconds=30)
    assert proc.returncode == 0, proc.stderr
    assert (repo / "reports" / "scan.json").is_file()
    assert (repo / "reports" / "again.json").is_file()
    assert (repo / "state" / "history.sqlite3").is_file()


def test_config_named_by_the_user_may_point_anywhere(layout) -> None:
    """``--config`` is the user's own file: its outputs are trusted like -o."""
    repo, outside = layout
    own = outside / "mine.toml"
    own.write_text(f'outputs = ["{outside}/report.json"]\n')
    proc = run_bounded("scan", ".", "-q", "--fail-on", "none", "--config", str(own), cwd=repo, seconds=30)
    assert proc.returncode == 0, proc.stderr
    assert (outside / "report.json").is_file()


def test_command_line_outputs_win_over_a_refused_setting_only_when_valid(layout) -> None:
    """A refused repository setting is refused even when -o is given: the file is hostile."""
    repo, outside = layout
    (repo / ".auditor.toml").write_text(f'outputs = ["{outside}/run.sh"]\n')
    proc = run_bounded("scan", ".", "-o", str(repo / "mine.json"), cwd=repo)
    assert proc.returncode == 2, proc.stderr
    assert not (outside / "run.sh").exists()
