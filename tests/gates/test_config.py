"""Config file: .auditor.toml and [tool.auditor]; every error names the file and line."""

from __future__ import annotations

import pytest

from auditor.model.errors import InputError
from auditor.model.severity import Severity
from auditor.policy.config import Config, load_config, parse_config

KNOWN = ("PORT001", "PORT002", "NET001", "NET003", "HOST002")


def test_auditor_toml_top_level():
    cfg = parse_config(
        'fail-on = "medium"\nenable-rules = ["port001", "NET003"]\nwaivers = "ops/waivers.yaml"\noutputs = ["a.sarif"]\n'
        '[severity]\nPORT001 = "critical"\n',
        "conf/.auditor.toml",
        KNOWN,
    )
    assert cfg.fail_on == "medium"
    assert cfg.enable_rules == ("PORT001", "NET003")
    assert cfg.severity == (("PORT001", Severity.CRITICAL),)
    assert cfg.waivers == "conf/ops/waivers.yaml"  # relative to the config file
    assert cfg.outputs == ("a.sarif",)


def test_pyproject_table(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.auditor]\nfail-on = "low"\nfail-on-new = true\nbaseline = "base.json"\n\n'
        '[tool.auditor.severity]\nNET001 = "info"\n',
        encoding="utf-8",
    )
    cfg = load_config(None, KNOWN, cwd=tmp_path)
    assert cfg.fail_on == "low"
    assert cfg.fail_on_new is True
    assert cfg.severity == (("NET001", Severity.INFO),)
    assert cfg.baseline == str(tmp_path / "base.json")


def test_auditor_toml_wins_and_pyproject_without_table_is_ignored(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n', encoding="utf-8")
    assert load_config(None, KNOWN, cwd=tmp_path) == Config()
    (tmp_path / "pyproject.toml").write_text('[tool.auditor]\nfail-on = "low"\n', encoding="utf-8")
    (tmp_path / ".auditor.toml").write_text('fail-on = "critical"\n', encoding="utf-8")
    assert load_config(None, KNOWN, cwd=tmp_path).fail_on == "critical"


@pytest.mark.parametrize(
    ("text", "pyproject", "message"),
    [
        ('fail-on = "high"\nfail_on = "low"\n', False, "c.toml:2: unknown setting 'fail_on'"),
        ('fail-on = "severe"\n', False, "c.toml:1: 'fail-on': unknown severity 'severe'"),
        (
            '\n\nenable-rules = ["PORT001", "NOPE1"]\n',
            False,
            "c.toml:3: unknown rule id 'NOPE1' in 'enable-rules'",
        ),
        ('enable-rules = "PORT001"\n', False, "c.toml:1: 'enable-rules' must be a list of strings"),
        ('fail-on-new = "yes"\n', False, "c.toml:1: 'fail-on-new' must be true or false"),
        (
            '[severity]\nPORT001 = "high"\nPORT002 = "urgent"\n',
            False,
            "c.toml:3: severity of PORT002: unknown severity 'urgent'",
        ),
        ('[severity]\nXYZ = "high"\n', False, "c.toml:2: unknown rule id 'XYZ' in 'severity'"),
        (
            'enable-rules = ["PORT001"]\ndisable-rules = ["PORT001"]\n',
            False,
            "c.toml:2: rule 'PORT001' is both enabled and disabled",
        ),
        ('fail-on = "high"\nfail-on = [\n', False, "c.toml:2: malformed TOML"),
        (
            '[project]\nname = "x"\n\n[tool.auditor]\nformat = 3\n',
            True,
            "c.toml:5: 'format' must be a non-empty string",
        ),
        (
            '[tool.auditor]\nwaivers = "w.yaml"\nseverity = "high"\n',
            True,
            "c.toml:3: 'severity' must be a table",
        ),
    ],
)
def test_malformed_config_names_file_and_line(text, pyproject, message):
    with pytest.raises(InputError) as exc:
        parse_config(text, "c.toml", KNOWN, pyproject)
    assert str(exc.value).startswith(message)


def test_explicit_config_must_exist(tmp_path):
    with pytest.raises(InputError, match="no such config file"):
        load_config(str(tmp_path / "nope.toml"), KNOWN)
