"""``auditor scan``'s gate options: config file, waivers, baseline, rule selection.

The options themselves and which of them the user gave; resolving them against the config
file is ``auditor.policy.gate``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path

import click
from click.core import ParameterSource

from auditor.model.findings import ScanResult
from auditor.model.rule import Rule
from auditor.model.text import visible
from auditor.policy.gate import GateFlags, GateSettings, resolve_gate
from auditor.policy.waivers import DEFAULT_WAIVERS_FILE


def gate_options(func: Callable) -> Callable:
    """The options ``resolve_gates`` reads; add below the command's other options."""
    options = [
        click.option(
            "--config",
            "config_path",
            type=click.Path(dir_okay=False),
            metavar="FILE",
            help="Settings file (default: .auditor.toml, else [tool.auditor] in pyproject.toml). Flags win.",
        ),
        click.option(
            "--waivers",
            "waivers_path",
            type=click.Path(dir_okay=False),
            metavar="FILE",
            help=f"Waivers file (default: {DEFAULT_WAIVERS_FILE} when present).",
        ),
        click.option(
            "--no-waivers", is_flag=True, help="Ignore every waivers file: report all findings as open."
        ),
        click.option(
            "--baseline",
            "baseline_path",
            type=click.Path(dir_okay=False),
            metavar="FILE",
            help="A previous JSON result: mark each finding new or existing.",
        ),
        click.option(
            "--fail-on-new/--no-fail-on-new",
            "fail_on_new",
            default=None,
            help="Gate only on findings that are not in --baseline.",
        ),
        click.option(
            "--enable-rule",
            "enable_rules",
            multiple=True,
            metavar="ID[,ID...]",
            help="Run only these rules (comma-separated, repeatable).",
        ),
        click.option(
            "--disable-rule",
            "disable_rules",
            multiple=True,
            metavar="ID[,ID...]",
            help="Do not run these rules (comma-separated, repeatable).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _explicit(ctx: click.Context, name: str) -> bool:
    source = ctx.get_parameter_source(name)
    return source is not None and source not in (ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP)


def resolve_gates(
    ctx: click.Context,
    all_rules: Sequence[Rule],
    *,
    fail_on: str,
    fmt: str,
    outputs: tuple[str, ...],
    config_path: str | None,
    waivers_path: str | None,
    no_waivers: bool,
    baseline_path: str | None,
    fail_on_new: bool | None,
    enable_rules: tuple[str, ...],
    disable_rules: tuple[str, ...],
    today: dt.date | None = None,
    cwd: Path | None = None,
) -> GateSettings:
    """The command's gate flags (only those the user gave) resolved against the config file."""
    flags = GateFlags(
        config_path=config_path,
        fail_on=fail_on if _explicit(ctx, "fail_on") else None,
        fmt=fmt if _explicit(ctx, "fmt") else None,
        outputs=tuple(outputs),
        waivers_path=waivers_path,
        no_waivers=no_waivers,
        baseline_path=baseline_path,
        fail_on_new=fail_on_new,
        enable_rules=split_ids(enable_rules),
        disable_rules=split_ids(disable_rules),
    )
    return resolve_gate(all_rules, flags, today=today, cwd=cwd)


def split_ids(values: Sequence[str]) -> tuple[str, ...]:
    """``--enable-rule A,B --enable-rule C`` -> ``(A, B, C)``; blanks between commas dropped."""
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


def warn_expired(result: ScanResult) -> None:
    """One stderr line per expired waiver: it no longer suppresses anything."""
    for w in result.policy.expired_waivers if result.policy is not None else ():
        click.echo(
            visible(
                f"auditor: warning: {w.source}: waiver for {w.rule} ({w.match}) owned by {w.owner} "
                f"expired on {w.expires}; {w.findings} finding(s) are open again"
            ),
            err=True,
        )
