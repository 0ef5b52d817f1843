"""JUnit XML so CI test tabs (GitLab, Jenkins, Azure, GitHub test reporters) show the audit.

One test suite per rule. Inside it, one test case per finding (a rule and a resource, plus the
finding's key when a rule reports several things on one resource): a ``failure`` for an open
finding, ``skipped`` for a waived one. A rule with no finding on a target is one passing test
case for that target; a rule that crashed is an ``error``. So failures == open findings.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import IO, TYPE_CHECKING

from auditor.model.findings import Finding, ScanResult
from auditor.model.text import visible_lines

from .ci_common import places, rule_metas
from .formats import SCAN, OutputFormat

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean(text: object) -> str:
    """Text safe for XML 1.0 and for the people who read it: ElementTree escapes markup but
    keeps control characters, so those and bidi characters are shown escaped (line feeds of
    a failure's text stay), and what XML cannot hold at all becomes U+FFFD."""
    return _XML_INVALID.sub("\ufffd", visible_lines(text))


def case_name(f: Finding) -> str:
    name = f"{f.resource.kind}/{f.resource.name}"
    return f"{name} [{f.key}]" if f.key else name


def _failure_text(f: Finding, where: str) -> str:
    lines = [f.message, f"severity: {f.severity.label}", f"location: {where}"]
    lines += [f"{k}: {v}" for k, v in f.evidence]
    if f.waiver and f.waiver.state == "expired":
        lines.append(f"waiver expired {f.waiver.expires} (owner {f.waiver.owner}): {f.waiver.reason}")
    if f.baseline:
        lines.append(f"baseline: {f.baseline}")
    lines.append(f"fix: {f.remediation}")
    lines.append(f"fingerprint: {f.fingerprint}")
    return "\n".join(lines)


def _case(suite: ET.Element, classname: str, name: str, file: str | None = None) -> ET.Element:
    import xml.etree.ElementTree as ET  # noqa: N817 - only when a JUnit report is written

    attrs = {"classname": clean(classname), "name": clean(name), "time": "0"}
    if file:
        attrs["file"] = clean(file)
    return ET.SubElement(suite, "testcase", attrs)


def junit_tree(result: ScanResult) -> ET.Element:
    import xml.etree.ElementTree as ET  # noqa: N817 - only when a JUnit report is written

    metas = rule_metas(result)
    where = places(result)
    by_rule: dict[str, list[Finding]] = defaultdict(list)
    for f in result.findings:
        by_rule[f.rule_id].append(f)
    errors_by_rule = defaultdict(list)
    for e in result.rule_errors:
        errors_by_rule[e.rule_id].append(e)
    scanned = [t for t in result.targets if t.status != "failed"]
    root = ET.Element("testsuites", {"name": "auditor"})
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    rule_ids = sorted(set(result.rules_run) | set(by_rule))
    for rid in rule_ids:
        title = metas[rid].title if rid in metas else (by_rule[rid][0].title if by_rule[rid] else rid)
        suite = ET.SubElement(root, "testsuite", {"name": clean(f"{rid}: {title}")})
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        hit_targets = {f.resource.host for f in by_rule[rid]} | {e.target for e in errors_by_rule[rid]}
        for f in by_rule[rid]:
            place = where[f.fingerprint]
            case = _case(suite, f"{rid}.{f.resource.host or 'unknown'}", case_name(f), place.uri)
            counts["tests"] += 1
            if f.status == "waived":
                w = f.waiver
                text = (
                    f"waived until {w.expires} by {w.owner}: {w.reason}"
                    if w
                    else "waived until None by None: None"
                )
                ET.SubElement(case, "skipped", {"message": clean(text)})
                counts["skipped"] += 1
            else:
                failure = ET.SubElement(
                    case, "failure", {"message": clean(f.message), "type": f.severity.label}
                )
                failure.text = clean(
                    _failure_text(f, place.uri if not place.line else f"{place.uri}:{place.line}")
                )
                counts["failures"] += 1
        for e in errors_by_rule[rid]:
            case = _case(suite, f"{rid}.{e.target}", f"rule crashed on {e.target}")
            ET.SubElement(case, "error", {"message": clean(e.error), "type": "rule-error"})
            counts["tests"] += 1
            counts["errors"] += 1
        for t in scanned:
            if t.target.name not in hit_targets:
                _case(suite, f"{rid}.{t.target.name}", f"{t.target.kind.value} {t.target.name}: no findings")
                counts["tests"] += 1
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    failed_targets = [t for t in result.targets if t.error]
    if failed_targets:
        suite = ET.SubElement(root, "testsuite", {"name": "targets"})
        for t in failed_targets:
            case = _case(suite, "targets", f"{t.target.kind.value} {t.target.name}")
            ET.SubElement(case, "error", {"message": clean(t.error), "type": t.status})
        count = str(len(failed_targets))
        for key, text in (("tests", count), ("failures", "0"), ("errors", count), ("skipped", "0")):
            suite.set(key, text)
        totals["tests"] += len(failed_targets)
        totals["errors"] += len(failed_targets)
    for key, value in totals.items():
        root.set(key, str(value))
    return root


def render(result: ScanResult, stream: IO[str]) -> None:
    import xml.etree.ElementTree as ET  # noqa: N817 - only when a JUnit report is written

    tree = junit_tree(result)
    ET.indent(tree)
    stream.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    stream.write(ET.tostring(tree, encoding="unicode"))
    stream.write("\n")


FORMAT = OutputFormat("junit", (".xml",), ((SCAN, render),))
