"""The command line: a thin group that assembles one module per command."""

from __future__ import annotations

import os
import sys

import click

from auditor import __version__, exit_codes
from auditor.commands.rules_cmd import explain_command, rules_command
from auditor.commands.scan import scan_command
from auditor.commands.snapshot import snapshot_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="auditor")
def cli():
    """Security and performance auditing for Docker networking."""


for command in (scan_command, snapshot_command, rules_command, explain_command):
    cli.add_command(command)


def main() -> None:
    """Entry point: no traceback ever reaches the user unless AUDITOR_DEBUG is set."""
    try:
        cli(standalone_mode=True)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        click.echo("auditor: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - last line of defence
        if os.environ.get("AUDITOR_DEBUG"):
            raise
        click.echo(f"auditor: internal error: {type(exc).__name__}: {exc} (set AUDITOR_DEBUG=1 for details)", err=True)
        sys.exit(exit_codes.INCOMPLETE)
