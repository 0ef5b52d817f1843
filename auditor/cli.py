"""The command line: a thin group that assembles one module per command."""

from __future__ import annotations

import gc
import importlib
import os
import sys
from typing import Any

import click

from auditor import __version__
from auditor.model import exit_codes
from auditor.model.text import visible

# (name, module, attribute) of every command, in help order. Add a line per new command module.
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("scan", "auditor.commands.scan", "scan_command"),
    ("snapshot", "auditor.commands.snapshot", "snapshot_command"),
    ("exposure", "auditor.commands.exposure", "exposure_command"),
    ("rules", "auditor.commands.rules_cmd", "rules_command"),
    ("explain", "auditor.commands.rules_cmd", "explain_command"),
    ("bench", "auditor.commands.bench", "bench_command"),
    ("history", "auditor.commands.history", "history_command"),
    ("diff", "auditor.commands.diff", "diff_command"),
    ("watch", "auditor.commands.watch", "watch_command"),
    ("demo", "auditor.commands.demo", "demo_command"),
    ("report", "auditor.commands.report", "report_command"),
)


class LazyGroup(click.Group):
    """Imports a command's module only when that command runs (or help lists them all): a
    compose scan never loads the Docker SDK, the benchmarks or the history store."""

    def __init__(self, *args: Any, commands: tuple[tuple[str, str, str], ...] = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._lazy = {name: (module, attr) for name, module, attr in commands}

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # No shell can pass a NUL byte, but a program calling us can; os.stat() would raise.
        for arg in args:
            if "\x00" in arg:
                raise click.UsageError(f"an argument holds a NUL byte: {visible(arg)}", ctx)
        return super().parse_args(ctx, args)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self._lazy)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self._lazy:
            return None
        module, attr = self._lazy[cmd_name]
        command = getattr(importlib.import_module(module), attr)
        gc.freeze()  # the command's modules are loaded for good: out of the collector's sight
        assert command.name == cmd_name, f"{module}.{attr} is named {command.name!r}"
        return command


def build_cli() -> click.Group:
    @click.group(cls=LazyGroup, commands=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
    @click.version_option(__version__, prog_name="auditor")
    def cli():
        """Security and performance auditing for Docker networking."""

    return cli


# A scan builds many small objects that live until the report is written; the collector's
# default first threshold (700 allocations) walks them again and again: about -25% of a
# 1,000-file scan's CPU time. The oldest generation is still collected (a long `watch` stays
# bounded), every 200,000 x 20 x 10 allocations at most.
GC_THRESHOLDS = (200_000, 20, 10)


def tune_gc() -> None:
    """Move what start-up loaded out of the collector's sight and collect less often.

    Cycles are still collected (a long ``watch`` stays bounded), only in larger batches."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def main() -> None:
    """Entry point: no traceback ever reaches the user unless AUDITOR_DEBUG is set."""
    tune_gc()
    try:
        code = build_cli().main(standalone_mode=False)
    except SystemExit:
        raise
    except click.UsageError as exc:
        # One line, like every other input error: a CI log shows it whole.
        command = exc.ctx.command_path if exc.ctx is not None else "auditor"
        click.echo(visible(f"auditor: error: {exc.format_message()} (see '{command} --help')"), err=True)
        sys.exit(exit_codes.INPUT_ERROR)
    except click.ClickException as exc:
        click.echo(visible(f"auditor: error: {exc.format_message()}"), err=True)
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, click.Abort):
        click.echo("auditor: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - last line of defence
        if os.environ.get("AUDITOR_DEBUG"):
            raise
        click.echo(
            visible(
                f"auditor: internal error: {type(exc).__name__}: {exc} (set AUDITOR_DEBUG=1 for details)"
            ),
            err=True,
        )
        sys.exit(exit_codes.INCOMPLETE)
    sys.exit(code if isinstance(code, int) else 0)
