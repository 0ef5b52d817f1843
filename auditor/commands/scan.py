"""``auditor scan``: collect, run the rules, render, choose the exit code."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from auditor.app.progress import fleet_progress
from auditor.audit.discovery import DiscoveryError, discover_rules
from auditor.collectors.fleet import fleet_specs
from auditor.collectors.request import ComposeOptions, ScanRequest
from auditor.collectors.sources import forked_ahead
from auditor.commands.common import (
    FormatChoice,
    engine_options,
    engine_specs,
    fail,
    stdout_outputs,
    stdout_renderer,
    user_errors,
    write_outputs,
    writes_stdout,
)
from auditor.commands.gates import gate_options, resolve_gates, warn_expired
from auditor.model import InputError, exit_codes
from auditor.model.text import visible
from auditor.policy.gate import parse_severity
from auditor.reports.formats import SCAN, registry
from auditor.reports.table import host_status_lines


def parse_variables(items: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """``--set VAR=VALUE`` items; a name that is not a variable name is a usage error."""
    out = []
    for item in items:
        name, eq, value = item.partition("=")
        if (
            not eq
            or not name
            or not (name[0].isalpha() or name[0] == "_")
            or not all(c.isalnum() or c == "_" for c in name)
        ):
            raise InputError(f"--set needs VAR=VALUE with a variable name, not {item!r}")
        out.append((name, value))
    return tuple(out)


def report_target_problems(result, quiet: bool = False) -> None:
    """One stderr line per failed target, per warning (compose's unset variables; not with
    ``-q``) and per gap that left a target incomplete (a compose fragment), each saying where."""
    from auditor.audit.pipeline import PARTIAL_VIEW  # imported with the scan (after the fork)

    snapshots = {snap.target: snap for snap in result.snapshots}
    for t in result.targets:
        snap = snapshots.get(t.target)
        for warning in snap.warnings if snap is not None and not quiet else ():
            click.echo(visible(f"auditor: warning: {t.target.address}: {warning}"), err=True)
        gaps = snap.incomplete if snap is not None else ()
        for gap in gaps[:MAX_GAP_LINES]:
            click.echo(visible(f"auditor: incomplete: {gap}"), err=True)
        if len(gaps) > MAX_GAP_LINES:  # one per unreadable field: a hostile file can have thousands
            click.echo(f"auditor: incomplete: and {len(gaps) - MAX_GAP_LINES} more", err=True)
        if t.error and not (snap is not None and snap.incomplete and t.error.startswith(PARTIAL_VIEW)):
            prefix = "" if t.target.name in t.error else f"{t.target.kind.value} {t.target.name}: "
            click.echo(visible(f"auditor: error: {prefix}{t.error}"), err=True)


MAX_GAP_LINES = 10


def _load_bench(path: str):
    from auditor.model.bench import load

    return load(path)


@click.command("scan")
@click.argument("paths", nargs=-1, type=click.Path(allow_dash=True))
@engine_options
@click.option(
    "-f",
    "--format",
    "fmt",
    type=FormatChoice(SCAN, none=True),
    default="table",
    show_default=True,
    help="Format written to stdout; `none` writes nothing there.",
)
@click.option(
    "-o",
    "--output",
    "outputs",
    multiple=True,
    metavar="FILE",
    help="Also write a report to FILE; the format follows the extension, or FORMAT:FILE "
    "(repeatable). `-` or FORMAT:- is stdout (instead of the -f rendering).",
)
@click.option(
    "--fail-on",
    default="high",
    show_default=True,
    metavar="SEVERITY",
    help="Exit 1 when a finding is at or above this severity (critical, high, medium, low, info, none).",
)
@click.option(
    "--env-file",
    "env_files",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Compose: read variables from this file instead of the .env beside the compose file (repeatable).",
)
@click.option(
    "--profile",
    "profiles",
    multiple=True,
    help="Compose: audit only services enabled by these profiles (default: COMPOSE_PROFILES from the "
    "environment or .env, else all services).",
)
@click.option(
    "--all-profiles", is_flag=True, help="Compose: audit every service, whatever COMPOSE_PROFILES says."
)
@click.option(
    "--set",
    "variables",
    multiple=True,
    metavar="VAR=VALUE",
    help="Compose: give a variable a value for interpolation, over the environment and .env (repeatable).",
)
@click.option(
    "--compose-file",
    "compose_files",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Compose: one project from these files merged in order, like `docker compose -f a -f b` (repeatable).",
)
@click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="No progress and no warnings on stderr (errors still show); the report is written as usual. "
    "For nothing on stdout use -f none.",
)
@click.option(
    "--severity",
    "shown_from",
    metavar="SEVERITY",
    help="Show only findings at or above this severity in every output; the gate and the exit code "
    "still count all findings.",
)
@click.option(
    "--repo-root",
    type=click.Path(file_okay=False, exists=True),
    metavar="DIR",
    help="Make report paths (SARIF, JUnit, Code Quality, Markdown) relative to DIR "
    "(default: the git work tree of the first path, else the current directory).",
)
@click.option(
    "--hosts-file",
    type=click.Path(dir_okay=False),
    help="Fleet: also scan the engines listed in FILE, one `URL [NAME]` per line.",
)
@click.option(
    "--store",
    "store",
    is_flag=False,
    flag_value="default",
    default=None,
    metavar="[STORE]",
    help="Record the scan in a history store: --store alone for the default (see `auditor history`), "
    "or --store=PATH / --store=postgresql://...",
)
@click.option(
    "--bench",
    "bench_file",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Benchmark result of `auditor bench -o FILE.json`: performance findings cite the measured cost.",
)
@gate_options
def scan_command(
    paths,
    engines,
    tls_verify,
    tlscacert,
    tlscert,
    tlskey,
    timeout,
    fmt,
    outputs,
    fail_on,
    env_files,
    profiles,
    compose_files,
    quiet,
    shown_from,
    repo_root,
    hosts_file,
    store,
    bench_file=None,
    all_profiles=False,
    variables=(),
    **gate_args,
):
    """Audit Docker engines, compose files and saved inspect JSON.

    With no PATHS and no --engine, the local engine (DOCKER_HOST, the docker context, or the
    default socket) is scanned; `-` reads one compose file or saved JSON from stdin.
    Exit codes: 0 clean, 1 gate failed, 2 usage/input error, 3 scan incomplete.
    """
    with user_errors():
        request = ScanRequest(
            paths=tuple(paths),
            engines=fleet_specs(
                engine_specs(engines, tls_verify, tlscacert, tlscert, tlskey, timeout),
                hosts_file,
                engine_specs((None,), tls_verify, tlscacert, tlscert, tlskey, timeout)[0],
            ),
            compose=ComposeOptions(
                env_files=tuple(env_files),
                profiles=tuple(profiles),
                merge_files=tuple(compose_files),
                variables=parse_variables(variables),
                all_profiles=all_profiles,
            ),
        )
        # The engines' host children first: their reading of the host runs beside the imports
        # of the pipeline, the exposure analysis and the rules below.
        with forked_ahead(request, exposure_ahead=True) as children:
            from auditor.app.scan import AuditPlan, audit

            try:
                all_rules = discover_rules()
            except DiscoveryError as exc:
                fail(str(exc), exit_codes.INPUT_ERROR)
            gates = resolve_gates(
                click.get_current_context(), all_rules, fail_on=fail_on, fmt=fmt, outputs=outputs, **gate_args
            )
            formats = registry()
            stdout_render = stdout_renderer(formats, gates.fmt, SCAN)
            planned = formats.plan(stdout_outputs(gates.outputs, gates.fmt), SCAN)
            to_stdout = writes_stdout(planned)
            display = parse_severity(shown_from, "--severity") if shown_from else None
            plan = AuditPlan(
                gates.rules, gates.threshold, gates.policy, _load_bench(bench_file) if bench_file else None
            )
            with fleet_progress(() if quiet else request.engines) as progress:
                result = audit(
                    request,
                    plan,
                    progress,
                    Path(repo_root).resolve() if repo_root else None,
                    children=children,
                )
            if not quiet:
                warn_expired(result)
            shown = result.shown_from(display)
            write_outputs(formats, planned, SCAN, shown)
            if not to_stdout:
                stdout_render(shown, sys.stdout)
            report_target_problems(result, quiet)
            if len(request.engines) > 1 and not quiet:
                for line in host_status_lines(result):
                    click.echo(visible(f"auditor: {line}"), err=True)
            code = exit_codes.for_result(result)
            if store is not None or gates.config.store:
                from auditor.commands.history import record_scan  # the history store only when asked

                code = record_scan(store or "default", result, code, configured=gates.config.store)
            sys.exit(code)
