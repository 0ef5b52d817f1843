"""Fuzzing the command line itself: random options and values for ``auditor scan``.

Runs in-process through click's test runner, so any exception other than a clean exit fails
(the real entry point would hide it behind "internal error"). Only unix sockets that do not
exist are given as engines: nothing here talks to an engine or the network.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from pathlib import Path

import pytest
from auditor.reports.formats import SCAN, registry
from click.testing import CliRunner
from hardening.harness import CORPUS, fuzz_settings, record
from hypothesis import given
from hypothesis import strategies as st

from auditor.audit.discovery import discover_rules
from auditor.cli import build_cli

SCAN_FORMATS = registry().names(SCAN)

RULE_IDS = [r.id for r in discover_rules()]
CORPUS_FILES = sorted(str(p) for p in CORPUS.glob("*/*") if p.parent.name in ("saved_json", "compose"))
SIDE_FILES = sorted(str(p) for p in CORPUS.glob("*/*"))
WORK = Path(os.environ.get("TMPDIR", "/tmp")) / f"auditor-fuzz-cli-{os.getpid()}"
WEIRD = st.sampled_from(
    ["", " ", "-", "--", "none", "NONE", "high", "Critical", "x" * 300, "\x00", "é", "-o"]
)


def _opt(name: str, values) -> st.SearchStrategy[list[str]]:
    return values.map(lambda v: [name, v])


OPTIONS = st.lists(
    st.one_of(
        _opt(
            "--fail-on",
            st.sampled_from(["critical", "high", "medium", "low", "info", "none", "bogus"]) | WEIRD,
        ),
        _opt("-f", st.sampled_from([*SCAN_FORMATS, "xml", "JSON"]) | WEIRD),
        _opt(
            "-o",
            st.tuples(
                st.sampled_from([*SCAN_FORMATS, "nope", ""]),
                st.sampled_from(["r.out", "d/", "a/b/c.json", ""]),
            ).map(lambda t: f"{t[0]}:{WORK / t[1]}" if t[0] else str(WORK / t[1])),
        ),
        _opt("--enable-rule", st.sampled_from([*RULE_IDS, "NOPE1", "port001"]) | WEIRD),
        _opt("--disable-rule", st.sampled_from([*RULE_IDS, "NOPE1"]) | WEIRD),
        _opt("--profile", st.sampled_from(["prod", "dev"]) | WEIRD),
        _opt("--waivers", st.sampled_from([*SIDE_FILES, str(WORK / "missing.yaml"), str(WORK)])),
        _opt("--config", st.sampled_from([*SIDE_FILES, str(WORK / "missing.toml")])),
        _opt("--baseline", st.sampled_from([*SIDE_FILES, str(WORK / "missing.json")])),
        _opt("--env-file", st.sampled_from([*SIDE_FILES, str(WORK / "missing.env")])),
        _opt("--compose-file", st.sampled_from([*CORPUS_FILES, str(WORK / "missing.yaml")])),
        _opt("--timeout", st.sampled_from(["0", "-1", "abc", "1e9", "0.1", "nan", "inf"])),
        _opt("--engine", st.sampled_from([f"unix://{WORK}/none.sock", "unix://", ""])),
        st.sampled_from([["-q"], ["--no-waivers"], ["--fail-on"], ["-o"], ["--bogus-option"]]),
    ),
    max_size=6,
).map(lambda groups: [a for g in groups for a in g])


@pytest.fixture(scope="module")
def runner():
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "d").mkdir(exist_ok=True)
    old = os.getcwd()
    os.chdir(WORK)  # no .auditor.toml of the repository is picked up by accident
    counts: Counter[str] = Counter()
    yield CliRunner(), counts
    os.chdir(old)
    shutil.rmtree(WORK, ignore_errors=True)
    if counts:
        summary = ", ".join(f"{n} exit {k}" for k, n in sorted(counts.items()))
        record(
            "fuzzing", "auditor scan command lines", summary + ", 0 tracebacks", inputs=sum(counts.values())
        )


@fuzz_settings(100)
@given(
    paths=st.lists(
        st.sampled_from([*CORPUS_FILES, str(WORK / "missing.json"), str(WORK)]), min_size=1, max_size=3
    ),
    options=OPTIONS,
)
def test_fuzz_scan_command_line(runner, paths, options):
    cli_runner, counts = runner
    args = ["scan", *paths, *options]
    result = cli_runner.invoke(build_cli(), args, catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{args!r} crashed") from result.exception
    assert "Traceback" not in result.output
    engine_given = "--engine" in options
    allowed = {0, 1, 2, 3} if engine_given else {0, 1, 2}
    assert result.exit_code in allowed, (args, result.exit_code, result.output[-500:])
    counts[str(result.exit_code)] += 1
