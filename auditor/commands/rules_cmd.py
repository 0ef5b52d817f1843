"""``auditor rules`` and ``auditor explain``: the catalog, from the rules' own metadata."""

from __future__ import annotations

import click

from auditor.audit.discovery import DiscoveryError, discover_rules
from auditor.commands.common import fail
from auditor.model import exit_codes
from auditor.model.rule import RuleMeta
from auditor.reports import rules_doc


def explain_text(meta: RuleMeta) -> str:
    """Plain-text explanation of one rule (the same facts as docs/rules.md)."""
    return rules_doc.explain_text(meta)


def _rules():
    try:
        return discover_rules()
    except DiscoveryError as exc:
        fail(str(exc), exit_codes.INPUT_ERROR)


@click.command("rules")
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(["table", "markdown"]),
    default="table",
    show_default=True,
    help="table: one line per rule; markdown: the whole catalog (docs/rules.md).",
)
def rules_command(fmt):
    """List every rule: id, the severities it emits, title (`auditor explain ID` says when)."""
    rules = _rules()
    if fmt == "markdown":
        click.echo(rules_doc.catalog_page([r.meta for r in rules]), nl=False)
        return
    for rule in rules:
        click.echo(f"{rule.id:<8} {rule.meta.severity_range():<14} {rule.meta.title}")


@click.command("explain")
@click.argument("rule_id")
def explain_command(rule_id):
    """Explain one rule: why it matters, how to fix it, references."""
    wanted = rule_id.strip().upper()
    for rule in _rules():
        if rule.id.upper() == wanted:
            click.echo(explain_text(rule.meta))
            return
    fail(f"unknown rule id {rule_id!r} (see `auditor rules`)", exit_codes.INPUT_ERROR)
