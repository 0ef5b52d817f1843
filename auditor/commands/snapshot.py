"""``auditor snapshot``: save what the audit reads from an engine, for offline review."""

from __future__ import annotations

import sys

import click

from auditor.collectors.daemon_facts import read_host_facts
from auditor.collectors.endpoints import EngineSpec
from auditor.collectors.engine import fetch_raw
from auditor.collectors.raw import dumps
from auditor.commands.common import engine_specs, fail, one_engine_options, user_errors, write_text_atomically
from auditor.model import exit_codes


@click.command("snapshot")
@one_engine_options
@click.option(
    "-o", "--output", "output", type=click.Path(dir_okay=False), help="File to write (default: stdout)."
)
def snapshot_command(engines, tls_verify, tlscacert, tlscert, tlskey, timeout, output):
    """Save one engine's sanitized state (no environment variables) as JSON.

    `auditor scan FILE` later gives the same findings as a live scan of that engine.
    """
    with user_errors():
        specs = engine_specs(engines, tls_verify, tlscacert, tlscert, tlskey, timeout) or (
            EngineSpec(timeout=timeout),
        )
        if len(specs) != 1:
            fail("snapshot takes one --engine at a time", exit_codes.INPUT_ERROR)
        raw = fetch_raw(specs[0], host_facts=read_host_facts)
        text = dumps(raw)
        if output:
            write_text_atomically(output, text)
        else:
            sys.stdout.write(text)
