"""``auditor scan``: collect, run the rules, render, choose the exit code."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import click

from auditor.app.progress import fleet_progress
from auditor.audit.discovery import DiscoveryError, discover_rules
from auditor.audit.pipeline import scan
from auditor.benchmarks.annotate import annotate as annotate_bench
from auditor.collectors.fleet import fleet_specs
from auditor.collectors.request import ComposeOptions, ScanRequest
from auditor.commands.common import (
    engine_options,
    engine_specs,
    fail,
    render_to_string,
    user_errors,
    write_text_atomically,
)
from auditor.commands.gates import gate_options, resolve_gates, warn_expired
from auditor.commands.history import record_scan
from auditor.model import exit_codes
from auditor.model.bench import load as load_bench
from auditor.model.errors import InputError
from auditor.policy.apply import apply_policy
from auditor.reports import REPORTERS, format_for_path
from auditor.reports.table import host_status_lines


def plan_outputs(outputs: tuple[str, ...]) -> list[tuple[str, str]]:
    """``-o FILE`` entries as (format, path); ``FORMAT:PATH`` names the format explicitly."""
    planned = []
    for item in outputs:
        fmt, _, rest = item.partition(":")
        if rest and fmt in REPORTERS:
            planned.append((fmt, rest))
            continue
        fmt_by_ext = format_for_path(item)
        if fmt_by_ext is None:
            known = ", ".join(sorted(REPORTERS))
            raise InputError(f"cannot tell the format of output {item!r} from its extension; write FORMAT:PATH (formats: {known})")
        planned.append((fmt_by_ext, item))
    return planned


@click.command("scan")
@click.argument("paths", nargs=-1, type=click.Path())
@engine_options
@click.option("-f", "--format", "fmt", default="table", show_default=True,
              help="Format written to stdout (table, json, ...).")
@click.option("-o", "--output", "outputs", multiple=True, metavar="FILE",
              help="Also write a report to FILE; the format follows the extension, or FORMAT:FILE (repeatable).")
@click.option("--fail-on", default="high", show_default=True, metavar="SEVERITY",
              help="Exit 1 when a finding is at or above this severity (critical, high, medium, low, info, none).")
@click.option("--env-file", "env_files", multiple=True, type=click.Path(dir_okay=False),
              help="Compose: read variables from this file instead of the .env beside the compose file (repeatable).")
@click.option("--profile", "profiles", multiple=True, help="Compose: audit only services enabled by these profiles (default: all services).")
@click.option("--compose-file", "compose_files", multiple=True, type=click.Path(dir_okay=False),
              help="Compose: one project from these files merged in order, like `docker compose -f a -f b` (repeatable).")
@click.option("-q", "--quiet", is_flag=True, help="Write nothing to stdout (use with -o).")
@click.option("--hosts-file", type=click.Path(dir_okay=False),
              help="Fleet: also scan the engines listed in FILE, one `URL [NAME]` per line.")
@click.option("--store", "store", is_flag=False, flag_value="default", default=None, metavar="[STORE]",
              help="Record the scan in a history store: --store alone for the default (see `auditor history`), "
                   "or --store=PATH / --store=postgresql://...")
@click.option("--bench", "bench_file", type=click.Path(dir_okay=False), metavar="FILE",
              help="Benchmark result of `auditor bench -o FILE.json`: performance findings cite the measured cost.")
@gate_options
def scan_command(paths, engines, tls_verify, tlscacert, tlscert, tlskey, timeout, fmt, outputs,
                 fail_on, env_files, profiles, compose_files, quiet, hosts_file, store, bench_file=None, **gate_args):
    """Audit Docker engines, compose files and saved inspect JSON.

    With no PATHS and no --engine, the local engine (DOCKER_HOST, the docker context, or the
    default socket) is
    scanned. Exit codes: 0 clean, 1 gate failed, 2 usage/input error, 3 scan incomplete.
    """
    with user_errors():
        try:
            all_rules = discover_rules()
        except DiscoveryError as exc:
            fail(str(exc), exit_codes.INPUT_ERROR)
        gates = resolve_gates(click.get_current_context(), all_rules, fail_on=fail_on, fmt=fmt, outputs=outputs, **gate_args)
        threshold, fmt, rules = gates.threshold, gates.fmt, gates.rules
        if fmt not in REPORTERS:
            raise InputError(f"unknown format {fmt!r} (choose from {', '.join(sorted(REPORTERS))})")
        planned = plan_outputs(gates.outputs)
        bench = load_bench(bench_file) if bench_file else None
        request = ScanRequest(
            paths=tuple(paths),
            engines=fleet_specs(
                engine_specs(engines, tls_verify, tlscacert, tlscert, tlskey, timeout), hosts_file,
                engine_specs((None,), tls_verify, tlscacert, tlscert, tlskey, timeout)[0]),
            compose=ComposeOptions(env_files=tuple(env_files), profiles=tuple(profiles), merge_files=tuple(compose_files)),
        )
        with fleet_progress(request.engines) as progress:
            result = scan(request, rules, threshold, host_progress=progress)
        result.extras.update(rule_meta={r.id: r.meta for r in rules}, root=str(Path.cwd()),
                             scan_dirs=[p for p in paths if Path(p).is_dir()])
        result = apply_policy(result, gates.policy)
        if bench is not None:
            result = replace(result, findings=annotate_bench(result.findings, bench))
            result.extras["benchmark"] = bench
        warn_expired(result.extras)
        for out_fmt, path in planned:
            write_text_atomically(path, render_to_string(REPORTERS[out_fmt], result))
        if not quiet:
            REPORTERS[fmt](result, sys.stdout)
        for t in result.targets:
            if t.error:
                prefix = "" if t.target.name in t.error else f"{t.target.kind.value} {t.target.name}: "
                click.echo(f"auditor: error: {prefix}{t.error}", err=True)
        if len(request.engines) > 1:
            for line in host_status_lines(result):
                click.echo(f"auditor: {line}", err=True)
        code = exit_codes.for_result(result)
        if store is not None or gates.config.store:
            code = record_scan(store or "default", result, code, configured=gates.config.store)
        sys.exit(code)
