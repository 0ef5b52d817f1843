"""``auditor exposure``: who can really reach each container port, from the host's firewall."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import click

from auditor.audit.pipeline import with_exposure
from auditor.collectors.request import ScanRequest
from auditor.collectors.sources import collect
from auditor.commands.common import engine_options, engine_specs, fail, user_errors
from auditor.model import exit_codes
from auditor.model.errors import InputError
from auditor.model.exposure import DUMP_FILES, HostDumps
from auditor.model.records import Snapshot
from auditor.model.text import visible
from auditor.reports.exposure_table import render_json, render_table


def read_dump_dir(directory: Path) -> HostDumps:
    """A directory of saved dumps (``iptables-save.txt``, ``ip-addr.json`` ... as in
    docs/exposure.md); a missing file leaves that dump unknown."""
    texts = {}
    for name, file_name in DUMP_FILES:
        path = directory / file_name
        try:
            texts[name] = path.read_text()
        except FileNotFoundError:
            continue
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read {path}: {exc}") from exc
    return HostDumps(**texts, source=str(directory))


@click.command("exposure")
@click.argument("paths", nargs=-1, type=click.Path(allow_dash=True))
@engine_options
@click.option("-f", "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="table: the matrix and the traces of what outside clients reach; json: the scan result's "
                   "\"exposure\" key.")  # fmt: skip
@click.option(
    "--dumps",
    "dump_dir",
    type=click.Path(file_okay=False, exists=True),
    metavar="DIR",
    help="Analyse one saved snapshot or inspect file with the host dumps saved in DIR.",
)
@click.option("--no-trace", is_flag=True, help="Table: leave out the rule traces.")
def exposure_command(
    paths, engines, tls_verify, tlscacert, tlscert, tlskey, timeout, fmt, dump_dir, no_trace
):
    """Print who can reach each container port: every source zone (LAN, internet, the host,
    each Docker network) against every container port, published or not, as open / blocked /
    unknown, from the firewall of the daemon's network namespace (read-only) or the dumps a
    snapshot file carries. Exit codes: 0 done, 2 input error, 3 a target's firewall not read."""
    with user_errors():
        request = ScanRequest(paths=tuple(paths),
                              engines=engine_specs(engines, tls_verify, tlscacert, tlscert, tlskey, timeout))  # fmt: skip
        collected = collect(request)
        snapshots: list[Snapshot] = []
        code = exit_codes.OK
        for item in collected:
            if item.snapshot is None:
                click.echo(visible(f"auditor: {item.target.name}: {item.error}"), err=True)
                code = exit_codes.INPUT_ERROR if isinstance(item.error, InputError) else exit_codes.INCOMPLETE
                continue
            snap = item.snapshot
            if dump_dir is not None:
                if len(collected) != 1:
                    fail("--dumps goes with exactly one target", exit_codes.INPUT_ERROR)
                snap = replace(snap, host_dumps=read_dump_dir(Path(dump_dir)))
            snap = with_exposure(snap)
            if snap.exposure is None:
                why = next((n for n in snap.notes if n.startswith("exposure not analysed")), None)
                click.echo(visible(f"auditor: {snap.target.name}: " + (why or "exposure not analysed: the firewall "
                           "and network of its daemon were not read (a remote engine, a compose file, or a snapshot "
                           "without host dumps; see --dumps)")), err=True)  # fmt: skip
                code = max(code, exit_codes.INCOMPLETE)
                continue
            snapshots.append(snap)
        if fmt == "json":
            render_json(snapshots, sys.stdout)
        else:
            render_table(snapshots, sys.stdout, traces=not no_trace)
        sys.exit(code)
