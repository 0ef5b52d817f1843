"""``auditor scan``'s gate options: config file, waivers, baseline, rule selection.

Resolves flags, the config file and defaults into one ``GateSettings`` (flags win, then the
config file, then built-in defaults) and rejects contradictory combinations with exit 2.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import click
from click.core import ParameterSource

from auditor.model.errors import InputError
from auditor.model.rule import Rule
from auditor.model.severity import Severity
from auditor.policy.apply import Policy, check_selection, select_rules
from auditor.policy.baseline import load_baseline
from auditor.policy.config import Config, load_config
from auditor.policy.waivers import DEFAULT_WAIVERS_FILE, Waiver, load_waivers

DEFAULT_FAIL_ON = "high"
DEFAULT_FORMAT = "table"


def gate_options(func: Callable) -> Callable:
    """The options ``resolve_gates`` reads; add below the command's other options."""
    options = [
        click.option("--config", "config_path", type=click.Path(dir_okay=False), metavar="FILE",
                     help="Settings file (default: .auditor.toml, else [tool.auditor] in pyproject.toml). Flags win."),
        click.option("--waivers", "waivers_path", type=click.Path(dir_okay=False), metavar="FILE",
                     help=f"Waivers file (default: {DEFAULT_WAIVERS_FILE} when present)."),
        click.option("--no-waivers", is_flag=True, help="Ignore every waivers file: report all findings as open."),
        click.option("--baseline", "baseline_path", type=click.Path(dir_okay=False), metavar="FILE",
                     help="A previous JSON result: mark each finding new or existing."),
        click.option("--fail-on-new/--no-fail-on-new", "fail_on_new", default=None,
                     help="Gate only on findings that are not in --baseline."),
        click.option("--enable-rule", "enable_rules", multiple=True, metavar="ID",
                     help="Run only these rules (repeatable)."),
        click.option("--disable-rule", "disable_rules", multiple=True, metavar="ID",
                     help="Do not run this rule (repeatable)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@dataclass(frozen=True)
class GateSettings:
    threshold: Severity | None
    fmt: str
    outputs: tuple[str, ...]
    rules: tuple[Rule, ...]
    policy: Policy
    config: Config


def parse_threshold(text: str, origin: str) -> Severity | None:
    if text.strip().lower() == "none":
        return None
    try:
        return Severity.parse(text)
    except ValueError as exc:
        raise InputError(f"{origin}: {exc}") from None


def _explicit(ctx: click.Context, name: str) -> bool:
    source = ctx.get_parameter_source(name)
    return source is not None and source not in (ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP)


def _config_where(config: Config, key: str) -> str:
    line = config.lines.get(key)
    return f"{config.path}:{line}" if line else str(config.path)


def _waivers(no_waivers: bool, path: str | None, config: Config, known: Sequence[str], cwd: Path) -> tuple[Waiver, ...]:
    if no_waivers and path:
        raise InputError("--waivers and --no-waivers contradict each other")
    if no_waivers:
        return ()
    if path:
        return load_waivers(path, known)
    if config.waivers:
        if not Path(config.waivers).exists():
            raise InputError(f"waivers file {config.waivers!r} named in the config does not exist", _config_where(config, "waivers"))
        return load_waivers(config.waivers, known)
    default = cwd / DEFAULT_WAIVERS_FILE
    return load_waivers(DEFAULT_WAIVERS_FILE if cwd == Path.cwd() else default, known) if os.path.lexists(default) else ()


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
    """Flags, then the config file, then defaults; contradictions are ``InputError`` (exit 2)."""
    known = [r.id for r in all_rules]
    config = load_config(config_path, known, cwd)
    if _explicit(ctx, "fail_on"):
        threshold = parse_threshold(fail_on, "--fail-on")
    elif config.fail_on is not None:
        threshold = parse_threshold(config.fail_on, _config_where(config, "fail-on"))
    else:
        threshold = parse_threshold(DEFAULT_FAIL_ON, "--fail-on")
    chosen_fmt = fmt if _explicit(ctx, "fmt") else (config.format or fmt)
    chosen_outputs = outputs or config.outputs
    enabled = tuple(e.upper() for e in enable_rules) or config.enable_rules
    disabled = tuple(d.upper() for d in disable_rules) or config.disable_rules
    check_selection(enabled, disabled, known)
    only_new = fail_on_new if fail_on_new is not None else bool(config.fail_on_new)
    baseline_file = baseline_path or config.baseline
    if only_new and not baseline_file:
        raise InputError("--fail-on-new needs --baseline (a previous JSON result)")
    if only_new and threshold is None:
        raise InputError("--fail-on-new has no effect with --fail-on none")
    baseline = load_baseline(baseline_file) if baseline_file else None
    policy = Policy(
        today=today or dt.date.today(),
        enabled=frozenset(enabled) if enabled else None,
        disabled=frozenset(disabled),
        severity=dict(config.severity),
        waivers=_waivers(no_waivers, waivers_path, config, known, cwd or Path.cwd()),
        baseline=baseline,
        fail_on_new=only_new,
    )
    return GateSettings(threshold, chosen_fmt, tuple(chosen_outputs), select_rules(all_rules, policy), policy, config)


def warn_expired(extras: dict) -> None:
    """One stderr line per expired waiver: it no longer suppresses anything."""
    for w in extras.get("expired_waivers") or ():
        click.echo(
            f"auditor: warning: {w['source']}: waiver for {w['rule']} ({w['match']}) owned by {w['owner']} "
            f"expired on {w['expires']}; {w['findings']} finding(s) are open again",
            err=True,
        )
