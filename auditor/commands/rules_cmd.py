"""``auditor rules`` and ``auditor explain``: the catalog, from the rules' own metadata."""

from __future__ import annotations

import click

from auditor import exit_codes, rules_doc
from auditor.commands.common import fail
from auditor.discovery import DiscoveryError, discover_rules
from auditor.rule import RuleMeta


def explain_text(meta: RuleMeta) -> str:
    """Plain-text explanation of one rule (the same facts as docs/rules.md)."""
    return rules_doc.explain_text(meta)


def _rules():
    try:
        return discover_rules()
    except DiscoveryError as exc:
        fail(str(exc), exit_codes.INPUT_ERROR)


@click.command("rules")
def rules_command():
    """List every rule: id, the severities it emits, title (`auditor explain ID` says when)."""
    for rule in _rules():
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
