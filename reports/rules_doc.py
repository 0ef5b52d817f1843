"""The rule catalog as documentation: ``auditor rules -f markdown > docs/rules.md``.

``rule_facts`` is the one place that decides what a rule's documentation says; the Markdown
page and ``auditor explain ID`` both render it, so they cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Sequence

from auditor.model.rule import RuleMeta

FAMILIES = (
    ("PORT", "Port exposure"),
    ("NET", "Segmentation"),
    ("HOST", "Host and daemon"),
)


def rule_facts(meta: RuleMeta) -> list[tuple[str, str | list[str]]]:
    """(heading, text or list of items) pairs that document one rule, in display order."""
    facts: list[tuple[str, str | list[str]]] = [
        ("Severity", meta.severity_text()),
        ("Why it matters", meta.rationale),
        ("How to fix", meta.remediation),
    ]
    if meta.needs:
        facts.append(("Needs daemon facts", list(meta.needs)))
    if meta.references:
        facts.append(("References", [r.title + (f" <{r.url}>" if r.url else "") for r in meta.references]))
    return facts


def explain_text(meta: RuleMeta) -> str:
    """Plain-text explanation of one rule, as ``auditor explain`` prints it."""
    lines = [f"{meta.id}: {meta.title}"]
    for heading, body in rule_facts(meta):
        if heading == "Severity":
            lines.append(f"Severity: {body}")
            continue
        lines += ["", f"{heading}:"]
        lines += [f"  - {item}" for item in body] if isinstance(body, list) else [f"  {body}"]
    return "\n".join(lines)


def _md_item(text: str) -> str:
    """A reference as Markdown: ``title <url>`` becomes a link."""
    if text.endswith(">") and " <" in text:
        title, url = text[:-1].rsplit(" <", 1)
        return f"[{title}]({url})"
    return text


def markdown(rules: Sequence[RuleMeta]) -> str:
    """The whole catalog page: an index table, then one section per rule."""
    out = [
        "# Rule catalog",
        "",
        "Generated from the rules' metadata by `auditor rules -f markdown > docs/rules.md`;",
        "`auditor explain ID` prints the same text. Do not edit by hand: a test fails when this",
        "page and the rules disagree.",
        "",
        "Rules never fire on unknown facts: a daemon setting that could not be read (for example",
        "when scanning a compose file or a remote engine) is listed under *not checked* in every",
        "report instead.",
        "",
        "Daemon facts come from the Engine API (`/version`, `/info`, the default bridge's options)",
        "and, when the engine is local, read-only from the running `dockerd`'s command line and",
        "`--version`, `/etc/docker/daemon.json`, `iptables-save`, `nft -j list ruleset`, UFW's",
        "`ufw.conf` and the process list (firewalld). Defaults are assumed only when both the",
        "command line and the config file could be read.",
        "",
        "| id | severity | title |",
        "|---|---|---|",
    ]
    out += [f"| [{r.id}](#{r.id.lower()}) | {r.severity_range()} | {r.title} |" for r in rules]
    for prefix, family in FAMILIES:
        members = [r for r in rules if r.id.startswith(prefix)]
        if not members:
            continue
        out += ["", f"## {family}"]
        for rule in members:
            out += ["", f"### {rule.id}", "", f"**{rule.title}**", ""]
            for heading, body in rule_facts(rule):
                if isinstance(body, list):
                    out += [f"{heading}:", ""] + [f"- {_md_item(item)}" for item in body] + [""]
                else:
                    out += [f"{heading}: {body}", ""]
            while out[-1] == "":
                out.pop()
    others = [r for r in rules if not r.id.startswith(tuple(p for p, _ in FAMILIES))]
    if others:
        out += ["", "## Other rules"] + [f"- {r.id}: {r.title}" for r in others]
    return "\n".join(out) + "\n"


def _family_order(rule_id: str) -> int:
    return next((i for i, (p, _) in enumerate(FAMILIES) if rule_id.startswith(p)), len(FAMILIES))


def catalog_page(rules: Sequence[RuleMeta]) -> str:
    """docs/rules.md for the given rules, grouped by family."""
    return markdown(sorted(rules, key=lambda r: (_family_order(r.id), r.id)))
