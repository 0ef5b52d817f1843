"""The command line: a thin group that assembles one module per command."""

from __future__ import annotations

import importlib
import os
import sys

import click

from auditor import __version__
from auditor.model import exit_codes

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
        code = build_cli().main(standalone_mode=False)
    except SystemExit:
        raise
    except click.UsageError as exc:
        # One line, like every other input error: a CI log shows it whole.
        command = exc.ctx.command_path if exc.ctx is not None else "auditor"
        click.echo(f"auditor: error: {exc.format_message()} (see '{command} --help')", err=True)
        sys.exit(exit_codes.INPUT_ERROR)
    except click.ClickException as exc:
        click.echo(f"auditor: error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, click.Abort):
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
    sys.exit(code if isinstance(code, int) else 0)
