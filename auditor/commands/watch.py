"""``auditor watch``: follow an engine's events and print findings as they appear and go."""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Any

import click

from auditor.app.watch import Watcher, WatchSettings
from auditor.audit.discovery import DiscoveryError, discover_rules
from auditor.collectors.endpoints import EngineSpec
from auditor.commands.common import FiniteFloat, engine_specs, fail, one_engine_options, user_errors
from auditor.commands.history import STORE_HELP, configured_store
from auditor.history import open_store
from auditor.model import exit_codes
from auditor.model.text import visible
from auditor.policy.apply import Policy
from auditor.policy.waivers import load_waivers
from auditor.reports.json_report import finding_json


def json_line(message: dict[str, Any]) -> str:
    out = dict(message)
    if "finding" in out:
        out["finding"] = finding_json(out["finding"])
    return json.dumps(out, sort_keys=False)


def text_line(message: dict[str, Any]) -> str:
    """One line for a terminal, names and messages with control and bidi characters escaped."""
    return visible(_text_line(message))


def _text_line(message: dict[str, Any]) -> str:
    clock = message["time"][11:19]
    if message["type"] == "finding":
        f = message["finding"]
        sign = "+ NEW     " if message["change"] == "new" else "- RESOLVED"
        waived = " [waived]" if f.status == "waived" else ""
        return (
            f"{clock} {sign} {f.severity.label:<8} {f.rule_id:<8} {f.resource.kind} {f.resource.name}: "
            f"{f.message}{waived}"
        )
    details = {k: v for k, v in message.items() if k not in ("type", "event", "time", "target")}
    extra = " ".join(f"{k}={v}" for k, v in details.items())
    return f"{clock} [{message['event']}] {message['target']} {extra}".rstrip()


@click.command("watch")
@one_engine_options
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text lines for people, or JSON lines (one object per line).",
)
@click.option(
    "--debounce",
    type=FiniteFloat(min=0.05),
    default=1.0,
    show_default=True,
    help="Seconds of quiet after an event before re-auditing.",
)
@click.option(
    "--rescan-interval",
    type=FiniteFloat(min=5),
    default=300.0,
    show_default=True,
    help="Seconds between full re-scans, so nothing drifts.",
)
@click.option(
    "--duration",
    type=FiniteFloat(min=0),
    default=0,
    show_default=True,
    help="Stop after this many seconds (0: until interrupted).",
)
@click.option(
    "--fail-on",
    default="high",
    show_default=True,
    metavar="SEVERITY",
    help="Threshold for the verdict recorded with each audit in the store.",
)
@click.option(
    "--store",
    "store",
    is_flag=False,
    flag_value="default",
    default=None,
    metavar="[STORE]",
    help="Also record audits that changed something. " + STORE_HELP,
)
@click.option(
    "--waivers",
    "waivers_path",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Waivers file applied to every audit (inline ignores in labels always apply).",
)
def watch_command(
    engines,
    tls_verify,
    tlscacert,
    tlscert,
    tlskey,
    timeout,
    fmt,
    debounce,
    rescan_interval,
    duration,
    fail_on,
    store,
    waivers_path,
):
    """Watch one engine and print new and resolved findings as containers and networks change.

    Subscribes to container and network events (GET /events), waits for a quiet moment,
    re-inspects what changed, and re-runs the rules. A dropped connection is resumed from the
    last event seen. Exit 0 at the end of --duration or on Ctrl-C, 2 on bad input, 3 when the
    engine cannot be read at the start.
    """
    with user_errors():
        specs = engine_specs(engines, tls_verify, tlscacert, tlscert, tlskey, timeout) or (
            EngineSpec(timeout=timeout),
        )
        if len(specs) != 1:
            fail("watch follows one --engine at a time (start one watch per engine)", exit_codes.INPUT_ERROR)
        from auditor.policy.gate import parse_threshold

        threshold = parse_threshold(fail_on, "--fail-on")
        try:
            rules = discover_rules()
        except DiscoveryError as exc:
            fail(str(exc), exit_codes.INPUT_ERROR)
        known = [r.id for r in rules]
        waivers = load_waivers(waivers_path, known) if waivers_path else ()
        policy = Policy(today=dt.date.today(), waivers=waivers, known_rules=frozenset(known))
        configured = configured_store()
        db = open_store(store, configured=configured) if store is not None or configured else None
        render = json_line if fmt == "json" else text_line

        def emit(message: dict[str, Any]) -> None:
            sys.stdout.write(render(message) + "\n")
            sys.stdout.flush()

        watcher = Watcher(
            specs[0],
            rules,
            emit,
            WatchSettings(debounce=debounce, rescan_interval=rescan_interval, duration=duration or None),
            fail_on=threshold,
            record=(lambda result: db.record(result, source="watch")) if db else None,
            policy=policy,
        )
        try:
            audits = watcher.run()
        except KeyboardInterrupt:
            audits = 1
        finally:
            if db is not None:
                db.close()
        if audits == 0:
            sys.exit(exit_codes.INCOMPLETE)
