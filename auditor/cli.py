"""The command line: a thin group that assembles one module per command."""

from __future__ import annotations

import importlib
import os
import sys

import click

from auditor import __version__, exit_codes

# (module, attribute) of every command, in help order. Add a line per new command module.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("auditor.commands.scan", "scan_command"),
    ("auditor.commands.snapshot", "snapshot_command"),
    ("auditor.commands.rules_cmd", "rules_command"),
    ("auditor.commands.rules_cmd", "explain_command"),
    ("auditor.commands.bench", "bench_command"),
    ("auditor.commands.history", "history_command"),
    ("auditor.commands.diff", "diff_command"),
    ("auditor.commands.watch", "watch_command"),
    ("auditor.commands.demo", "demo_command"),
    ("auditor.commands.report", "report_command"),
)


def build_cli() -> click.Group:
    @click.group(context_settings={"help_option_names": ["-h", "--help"]})
    @click.version_option(__version__, prog_name="auditor")
    def cli():
        """Security and performance auditing for Docker networking."""

    for module, attr in COMMANDS:
        cli.add_command(getattr(importlib.import_module(module), attr))
    return cli


def main() -> None:
    """Entry point: no traceback ever reaches the user unless AUDITOR_DEBUG is set."""
    try:
        build_cli()(standalone_mode=True)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        click.echo("auditor: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - last line of defence
        if os.environ.get("AUDITOR_DEBUG"):
            raise
        click.echo(
            f"auditor: internal error: {type(exc).__name__}: {exc} (set AUDITOR_DEBUG=1 for details)",
            err=True,
        )
        sys.exit(exit_codes.INCOMPLETE)
