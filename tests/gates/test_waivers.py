"""Waivers file: parsing with file:line errors, glob matching on each key, expiry with a fixed clock."""

from __future__ import annotations

import datetime as dt

import pytest
from gates.cisupport import scan_result
from support.builders import container, network, port, snapshot

from auditor.model.errors import InputError
from auditor.policy.waivers import Waiver, load_waivers, matches, parse_waivers, subject_of

KNOWN = ("PORT001", "PORT002", "NET001", "NET003")

GOOD = """\
# accepted risks
version: 1
waivers:
  - rule: PORT001
    match:
      host: "prod-*"
      container: "web-?"
    reason: public web front end behind the CDN
    owner: web-team@example.com
    expires: 2030-03-31
  - rule: net003
    match: {project: legacy}
    reason: vendor appliance needs host networking
    owner: ops
    expires: "2030-01-15"
"""


def test_parse_good_file():
    first, second = parse_waivers(GOOD, ".auditor-waivers.yaml", KNOWN)
    assert first == Waiver(
        rule="PORT001",
        match=(("container", "web-?"), ("host", "prod-*")),
        reason="public web front end behind the CDN",
        owner="web-team@example.com",
        expires=dt.date(2030, 3, 31),
        source=".auditor-waivers.yaml:4",
    )
    assert second.rule == "NET003"
    assert second.expires == dt.date(2030, 1, 15)
    assert second.source == ".auditor-waivers.yaml:11"


def test_a_plain_list_and_an_empty_file_are_accepted():
    (w,) = parse_waivers(
        "- {rule: PORT001, match: {host: '*'}, reason: r, owner: o, expires: 2030-01-01}\n", "w.yaml", KNOWN
    )
    assert w.match == (("host", "*"),)
    assert parse_waivers("", "w.yaml", KNOWN) == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "waivers:\n  - rule: PORT001\n    match: {host: '*'}\n    owner: o\n    expires: 2030-01-01\n",
            "w.yaml:2: waiver needs a non-empty string 'reason'",
        ),
        (
            "waivers:\n  - rule: PORT999\n    match: {host: '*'}\n    reason: r\n    owner: o\n    expires: 2030-01-01\n",
            "w.yaml:2: unknown rule id 'PORT999' in waiver (see `auditor rules`)",
        ),
        (
            "waivers:\n  - rule: PORT001\n    match: {host: '*'}\n    reason: r\n    owner: o\n    expires: next week\n",
            "w.yaml:6: waiver 'expires' must be a date YYYY-MM-DD, got 'next week'",
        ),
        (
            "waivers:\n  - rule: PORT001\n    match: {host: '*'}\n    reason: r\n    owner: o\n",
            "w.yaml:2: waiver needs an 'expires' date (YYYY-MM-DD)",
        ),
        (
            "waivers:\n  - rule: PORT001\n    match: {hots: '*'}\n    reason: r\n    owner: o\n    expires: 2030-01-01\n",
            "w.yaml:3: unknown match key 'hots' (choose from host, project, service, container, network, resource, port)",
        ),
        (
            "waivers:\n  - rule: PORT001\n    reason: r\n    owner: o\n    expires: 2030-01-01\n",
            "w.yaml:2: waiver needs a 'match' mapping with at least one of host, project, service, container, network, "
            "resource, port (use host: '*' to waive a rule everywhere)",
        ),
        (
            "waivers:\n  - rule: PORT001\n    match: {host: '*'}\n    reason: r\n    owner: o\n    expires: 2030-01-01\n    until: x\n",
            "w.yaml:7: unknown waiver field 'until' (expected rule, match, reason, owner, expires)",
        ),
        (
            "waivers:\n  - just a string\n",
            "w.yaml:2: each waiver must be a mapping with rule, match, reason, owner, expires",
        ),
        ("waivers: {rule: PORT001}\n", "w.yaml:1: 'waivers' must be a list of entries"),
        ("waivers:\n  - rule: [PORT001\n", "w.yaml:3: malformed YAML"),
        ("rules:\n  - x\n", "w.yaml:1: unknown top-level key 'rules' (expected 'waivers')"),
    ],
)
def test_malformed_entries_name_file_and_line(text, message):
    with pytest.raises(InputError) as exc:
        parse_waivers(text, "w.yaml", KNOWN)
    assert str(exc.value).startswith(message)
    assert exc.value.exit_code == 2


def test_load_errors(tmp_path):
    with pytest.raises(InputError, match="no such waivers file"):
        load_waivers(tmp_path / "missing.yaml", KNOWN)
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(InputError, match="not UTF-8"):
        load_waivers(bad, KNOWN)


def test_expiry_is_inclusive_with_a_fixed_clock():
    (w,) = parse_waivers(
        "- {rule: PORT001, match: {host: '*'}, reason: r, owner: o, expires: 2030-03-31}\n", "w.yaml", KNOWN
    )
    assert not w.expired(dt.date(2030, 3, 31))
    assert w.expired(dt.date(2030, 4, 1))


def _finding(rule_id: str, snap, name: str):
    result = scan_result(snap)
    return next(f for f in result.findings if f.rule_id == rule_id and f.resource.name == name)


def waiver(**match) -> Waiver:
    return Waiver("PORT001", tuple(sorted(match.items())), "r", "o", dt.date(2030, 1, 1), "w.yaml:1")


def test_globs_on_each_key():
    snap = snapshot(container("web-1", ports=[port(80, 8080)], project="shop", networks=("front",)))
    f = _finding("PORT001", snap, "web-1")
    subject = subject_of(f, networks=("front",), service="web")
    assert matches(waiver(host="test*"), "PORT001", subject)
    assert matches(waiver(host="prod*"), "PORT001", subject) is False
    assert matches(waiver(project="sh?p"), "PORT001", subject)
    assert matches(waiver(container="web-*"), "PORT001", subject)
    assert matches(waiver(container="db-*"), "PORT001", subject) is False
    assert matches(waiver(service="web"), "PORT001", subject)
    assert matches(waiver(network="fr*"), "PORT001", subject)
    assert matches(waiver(network="back"), "PORT001", subject) is False
    assert matches(waiver(port="80"), "PORT001", subject)
    assert matches(waiver(port="80/tcp"), "PORT001", subject)
    assert matches(waiver(port="8080"), "PORT001", subject)
    assert matches(waiver(port="443"), "PORT001", subject) is False
    assert matches(waiver(resource="web-1"), "PORT001", subject)
    # every key must match, and the rule must be the waiver's
    assert matches(waiver(container="web-*", project="other"), "PORT001", subject) is False
    assert matches(waiver(container="web-*"), "PORT002", subject) is False


def test_network_key_matches_a_network_finding():
    snap = snapshot(
        container("a", networks=("bridge",)),
        networks=(network("bridge", options={"com.docker.network.bridge.default_bridge": "true"}),),
    )
    f = _finding("NET001", snap, "a")
    assert matches(
        Waiver("NET001", (("network", "bridge"),), "r", "o", dt.date(2030, 1, 1), "w:1"),
        "NET001",
        subject_of(f, ("bridge",)),
    )
