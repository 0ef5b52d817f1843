"""The gate's settings resolved: flags win, then the config file, then built-in defaults.

``resolve_gate`` reads the config, waivers and baseline files it is pointed at and rejects
contradictory combinations with an ``InputError`` (exit 2). Flags arrive as ``None`` when the
user did not give them, so the config file can fill them in.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from auditor.model.errors import InputError
from auditor.model.rule import Rule
from auditor.model.severity import ORDERED_DESC, Severity
from auditor.policy.apply import Policy, check_selection, select_rules
from auditor.policy.baseline import load_baseline
from auditor.policy.config import Config, load_config
from auditor.policy.waivers import DEFAULT_WAIVERS_FILE, Waiver, load_waivers

DEFAULT_FAIL_ON = "high"
DEFAULT_FORMAT = "table"


@dataclass(frozen=True)
class GateFlags:
    """What the command line said; ``None`` (or empty) means "not given"."""

    config_path: str | None = None
    fail_on: str | None = None
    fmt: str | None = None
    outputs: tuple[str, ...] = ()
    waivers_path: str | None = None
    no_waivers: bool = False
    baseline_path: str | None = None
    fail_on_new: bool | None = None
    enable_rules: tuple[str, ...] = ()
    disable_rules: tuple[str, ...] = ()


@dataclass(frozen=True)
class GateSettings:
    threshold: Severity | None
    fmt: str
    outputs: tuple[str, ...]
    rules: tuple[Rule, ...]
    policy: Policy
    config: Config


def parse_threshold(text: str, origin: str) -> Severity | None:
    """A ``--fail-on`` value: a severity, or ``none`` for no gate."""
    if text.strip().lower() == "none":
        return None
    return parse_severity(text, origin, also="none")


def parse_severity(text: str, origin: str, also: str = "") -> Severity:
    """A severity named on the command line or in a file; the error lists the choices."""
    try:
        return Severity.parse(text)
    except ValueError:
        choices = ", ".join([*(s.label for s in ORDERED_DESC), *([also] if also else [])])
        raise InputError(f"{origin}: unknown severity {text!r} (choose from {choices})") from None


def _config_where(config: Config, key: str) -> str:
    line = config.lines.get(key)
    return f"{config.path}:{line}" if line else str(config.path)


def _waivers(flags: GateFlags, config: Config, known: Sequence[str], cwd: Path) -> tuple[Waiver, ...]:
    if flags.no_waivers and flags.waivers_path:
        raise InputError("--waivers and --no-waivers contradict each other")
    if flags.no_waivers:
        return ()
    if flags.waivers_path:
        return load_waivers(flags.waivers_path, known)
    if config.waivers:
        if not Path(config.waivers).exists():
            raise InputError(
                f"waivers file {config.waivers!r} named in the config does not exist",
                _config_where(config, "waivers"),
            )
        return load_waivers(config.waivers, known)
    default = cwd / DEFAULT_WAIVERS_FILE
    if not os.path.lexists(default):
        return ()
    return load_waivers(DEFAULT_WAIVERS_FILE if cwd == Path.cwd() else default, known)


def resolve_gate(
    all_rules: Sequence[Rule], flags: GateFlags, today: dt.date | None = None, cwd: Path | None = None
) -> GateSettings:
    """Flags, then the config file, then defaults; contradictions are ``InputError`` (exit 2)."""
    known = [r.id for r in all_rules]
    config = load_config(flags.config_path, known, cwd)
    if flags.fail_on is not None:
        threshold = parse_threshold(flags.fail_on, "--fail-on")
    elif config.fail_on is not None:
        threshold = parse_threshold(config.fail_on, _config_where(config, "fail-on"))
    else:
        threshold = parse_threshold(DEFAULT_FAIL_ON, "--fail-on")
    chosen_fmt = flags.fmt or config.format or DEFAULT_FORMAT
    chosen_outputs = flags.outputs or config.outputs
    enabled = tuple(e.upper() for e in flags.enable_rules) or config.enable_rules
    disabled = tuple(d.upper() for d in flags.disable_rules) or config.disable_rules
    check_selection(enabled, disabled, known)
    only_new = flags.fail_on_new if flags.fail_on_new is not None else bool(config.fail_on_new)
    baseline_file = flags.baseline_path or config.baseline
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
        waivers=_waivers(flags, config, known, cwd or Path.cwd()),
        baseline=baseline,
        fail_on_new=only_new,
        inline=not flags.no_waivers,
        known_rules=frozenset(k.upper() for k in known),
    )
    return GateSettings(
        threshold, chosen_fmt, tuple(chosen_outputs), select_rules(all_rules, policy), policy, config
    )
