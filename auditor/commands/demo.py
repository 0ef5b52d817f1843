"""``auditor demo``: the README's main job, a real scan of a deliberately risky engine."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from auditor.app.scan import AuditPlan, audit
from auditor.audit.discovery import discover_rules
from auditor.collectors.request import ScanRequest
from auditor.commands.common import user_errors, write_outputs
from auditor.model import exit_codes
from auditor.model.severity import Severity
from auditor.policy.apply import Policy
from auditor.reports.formats import SCAN, registry

# Report file names per format; formats not listed here are written as report.<format>.
FILE_NAMES = {
    "json": "scan.json",
    "table": "scan.txt",
    "html": "report.html",
    "sarif": "scan.sarif",
    "junit": "junit.xml",
    "markdown": "summary.md",
    "codequality": "codequality.json",
}


def write_reports(result, out_dir: Path) -> list[Path]:
    """One file per scan format of the registry."""
    formats = registry()
    planned = [
        (fmt, str(out_dir / FILE_NAMES.get(fmt, f"report.{fmt}")))
        for fmt in formats.names(SCAN)
        if fmt != "none"
    ]
    write_outputs(formats, planned, SCAN, result)
    return [Path(path) for _, path in planned]


def _engine_reachable() -> tuple[object | None, str | None]:
    import docker

    try:
        from auditor.collectors.endpoints import default_engine_address

        client = docker.DockerClient(base_url=default_engine_address(), timeout=30)
        client.ping()
        return client, None
    except Exception as exc:  # noqa: BLE001 - any failure means "no engine"
        return None, str(exc).splitlines()[0] if str(exc) else type(exc).__name__


@click.command("demo")
@click.option(
    "--out",
    "out_dir",
    default="demo-output",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder for the reports.",
)
def demo_command(out_dir):
    """Start a few risky labelled containers, scan the engine, write every report, clean up.

    Without a reachable engine, scans the bundled example snapshot instead.
    """
    from auditor.app.demo import bundled_snapshot, demo_environment

    say = lambda text: click.echo(f"[demo] {text}", err=True)  # noqa: E731
    with user_errors():
        plan = AuditPlan(discover_rules(), Severity.HIGH, Policy(today=dt.date.today()))
        client, why = _engine_reachable()
        if client is None:
            say(f"no Docker engine reachable ({why}); scanning the bundled example snapshot instead")
            result = audit(ScanRequest(paths=(str(bundled_snapshot()),)), plan)
        else:
            with demo_environment(client, say):
                result = audit(ScanRequest(), plan)
        out = Path(out_dir)
        registry().renderer("table", SCAN)(result, sys.stdout)
        for path in write_reports(result, out):
            say(f"wrote {path}")
        code = exit_codes.for_result(result)
        if code in (exit_codes.INPUT_ERROR, exit_codes.INCOMPLETE):
            sys.exit(code)
        say("done: the findings above are expected (the demo containers are risky on purpose)")
