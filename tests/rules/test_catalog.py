"""Metadata invariants over every discovered rule, and the generated docs/rules.md."""

from __future__ import annotations

import pkgutil
import re
from dataclasses import fields
from pathlib import Path

import auditor.rules as rules_pkg
import pytest
from auditor.reports import rules_doc
from auditor.rules import BUILTIN_RULES

from auditor.audit.discovery import discover_rules
from auditor.collectors.raw import UNKNOWN_FACT_LABELS
from auditor.model.records import DaemonFacts

RULES = discover_rules()
ROOT = Path(__file__).resolve().parents[2]
HELPER_MODULES = {"_helpers", "services"}
FIX_MARKERS = ("docker run", "docker network", "compose", "daemon.json", "dockerd", "iptables")


def test_ids_are_unique_and_each_module_is_named_after_its_rule():
    """Folder = file = id: a rule is found by its id in one hop (``rules/port001_*.py``)."""
    ids = [r.id for r in BUILTIN_RULES]
    assert len(ids) == len(set(ids))
    assert len({r.id for r in RULES}) == len(RULES)
    for rule in BUILTIN_RULES:
        module = rule.check.__module__.rsplit(".", 1)[-1]
        assert module.startswith(rule.id.lower() + "_"), (rule.id, module)


def test_each_rule_has_a_test_module():
    for rule in BUILTIN_RULES:
        assert (ROOT / "tests" / "rules" / f"test_{rule.id.lower()}.py").is_file(), rule.id


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_metadata(rule):
    meta = rule.meta
    assert re.fullmatch(r"(PORT|NET|HOST)\d{3}", meta.id)
    assert meta.title[0].isupper() and not meta.title.endswith(".")
    assert not re.match(r"(?i)(ensure|check|verify|detect)\b", meta.title), "a title states the problem"
    assert len(meta.rationale) > 80 and len(meta.remediation) > 60
    assert "`" in meta.remediation and any(m in meta.remediation for m in FIX_MARKERS), (
        "remediation must quote the exact docker run flag, compose snippet or daemon setting"
    )
    assert meta.references


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_needed_facts_exist_and_are_reported_when_unknown(rule):
    names = {f.name for f in fields(DaemonFacts)}
    for need in rule.meta.needs:
        assert need in names
        assert need in UNKNOWN_FACT_LABELS


def test_every_rule_module_is_registered():
    registered = {r.check.__module__ for r in BUILTIN_RULES}
    modules = {
        f"auditor.rules.{m.name}"
        for m in pkgutil.iter_modules(rules_pkg.__path__)
        if m.name not in HELPER_MODULES
    }
    assert modules == registered


def test_docs_rules_md_is_up_to_date():
    expected = rules_doc.catalog_page([r.meta for r in BUILTIN_RULES])
    actual = (ROOT / "docs" / "rules.md").read_text()
    assert actual == expected, "docs/rules.md is stale: run `auditor rules -f markdown > docs/rules.md`"


def test_explain_prints_the_documented_facts():
    rule = next(r for r in BUILTIN_RULES if r.id == "PORT008")
    text = rules_doc.explain_text(rule.meta)
    assert text.splitlines()[:2] == [
        "PORT008: Loopback-published ports reachable from the local network",
        "Severity: high; critical when the port serves a service that accepts unauthenticated connections by default",
    ]
    for _heading, body in rules_doc.rule_facts(rule.meta):
        items = body if isinstance(body, list) else [body]
        for item in items:
            assert item in text
            assert rules_doc._md_item(item) in (ROOT / "docs" / "rules.md").read_text()


def test_a_rule_emitting_an_undeclared_severity_is_a_rule_error():
    """Catalog severity equals emitted severity: an observation outside the declared ones is refused."""
    from support.builders import container, snapshot

    from auditor.audit.run import run_rules
    from auditor.model.rule import Observation, Rule, RuleMeta
    from auditor.model.severity import Severity

    meta = RuleMeta(
        "NET999",
        "Something wrong",
        Severity.LOW,
        "r" * 90,
        "`compose` " + "x" * 60,
        other_severities=((Severity.MEDIUM, "sometimes"),),
    )
    snap = snapshot(container("a"))
    ok = Rule(meta, lambda s: [Observation(s.containers[0], "m", severity=Severity.MEDIUM)])
    bad = Rule(meta, lambda s: [Observation(s.containers[0], "m", severity=Severity.CRITICAL)])
    assert [f.severity for f in run_rules(snap, [ok]).findings] == [Severity.MEDIUM]
    run = run_rules(snap, [bad])
    assert run.findings == ()
    assert [(e.rule_id, e.error) for e in run.errors] == [
        ("NET999", "emitted severity critical that its metadata does not declare")
    ]


def test_severity_text_lists_every_emitted_severity():
    meta = next(r for r in BUILTIN_RULES if r.id == "NET011").meta
    assert meta.severity_range() == "low-critical"
    assert meta.severity_text().startswith("high; critical for ALL, SYS_MODULE")
