"""Acceptance on the real engine: scan, change containers, scan again, diff; once per store.

Other engineers' containers change on the same engine meanwhile, so assertions look only at
this test's uniquely named containers.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from auditor.commands.diff import diff_command
from auditor.commands.history import history_command
from auditor.commands.scan import scan_command
from auditor.history import open_store

from .conftest import free_port

pytestmark = pytest.mark.engine

ENGINE = "unix:///var/run/docker.sock"


def run(command, args):
    result = CliRunner().invoke(command, args, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def scan_into(store_url: str) -> dict:
    code, out, err = run(
        scan_command, ["--engine", ENGINE, f"--store={store_url}", "-f", "json", "--fail-on", "none"]
    )
    assert code == 0, err
    assert "recorded scan" in err
    return json.loads(out)


def _before_exposure(message: str) -> str:
    cuts = [
        message.index(s) for s in (" The host's firewall ", " Whether the host's firewall ") if s in message
    ]
    return message[: min(cuts)] if cuts else message


def mine(findings, names):
    return {
        (f["rule_id"], f["resource"]["name"], f["fingerprint"])
        for f in findings
        if f["resource"]["name"] in names
    }


def test_diff_shows_exactly_new_and_resolved_findings(engine_objects, store_url):
    # One network each: no finding about one container depends on another one being there.
    net_a, net_b, net_c = (engine_objects.network(p) for p in ("hista", "histb", "histc"))
    web_ports = {"80/tcp": ("0.0.0.0", free_port())}
    web = engine_objects.container("web", ports=web_ports, network=net_a.name)
    db = engine_objects.container("db", ports={"5432/tcp": ("0.0.0.0", free_port())}, network=net_c.name)
    static_args = {
        "name": engine_objects.containers[-1].name.replace("db", "static"),
        "ports": {"8080/tcp": ("0.0.0.0", free_port())},
        "network": net_b.name,
    }
    static = engine_objects.container("static", **static_args)
    names = {web.name, db.name, static.name}

    first = scan_into(store_url)
    target = next(t["name"] for t in first["targets"] if t["address"] == ENGINE)
    before = mine(first["findings"], names)
    assert {n for _, n, _ in before} == names, "every test container has at least one finding"

    # Change: remove db; publish a new port (6379) on web; re-create static identically.
    db.remove(force=True)
    web.remove(force=True)
    redis_port = free_port()
    web = engine_objects.container(
        "web", name=web.name, network=net_a.name, ports={**web_ports, "6379/tcp": ("0.0.0.0", redis_port)}
    )
    old_static_id = static.id
    static.remove(force=True)
    static = engine_objects.container("static", **static_args)
    assert static.id != old_static_id

    second = scan_into(store_url)
    after = mine(second["findings"], names)

    code, out, err = run(diff_command, ["--store", store_url, "--target", target, "-f", "json"])
    assert code == 0, err
    diff = json.loads(out)
    new = mine(diff["new_findings"], names)
    resolved = mine(diff["resolved_findings"], names)
    # a changed message that differs only in who really reaches the port follows the machine's
    # firewall, which other sessions change meanwhile; anything else counts
    changed = {
        (c["after"]["rule_id"], c["after"]["resource"]["name"])
        for c in diff["changed_findings"]
        if c["after"]["resource"]["name"] in names
        and _before_exposure(c["before"]["message"]) != _before_exposure(c["after"]["message"])
    }

    # Exactly: every finding that disappeared is db's, every db finding disappeared.
    assert resolved == {f for f in before if f[1] == db.name} == before - after
    # Exactly: every new finding is web's and is about the newly published port.
    assert new == after - before
    assert new and {n for _, n, _ in new} == {web.name}
    by_fp = {f["fingerprint"]: f for f in diff["new_findings"]}
    assert all(str(redis_port) in json.dumps(by_fp[fp]["evidence"]) for _, _, fp in new)
    assert ("PORT002", web.name) in {(r, n) for r, n, _ in new}
    # Fingerprints survive re-creation: static is identical in both scans, nothing changed.
    static_before = {f for f in before if f[1] == static.name}
    assert static_before and static_before == {f for f in after if f[1] == static.name}
    assert static.name not in {n for _, n in changed}
    assert diff["summary"]["new"] == len(diff["new_findings"])
    assert diff["old"]["scan_id"] < diff["new"]["scan_id"]

    # history lists both scans of the target, newest first, with counts matching the report.
    code, out, err = run(history_command, ["--store", store_url, "--target", target, "-f", "json"])
    assert code == 0, err
    rows = json.loads(out)["scans"]
    assert [r["scan_id"] for r in rows] == [diff["new"]["scan_id"], diff["old"]["scan_id"]]
    second_target = next(t for t in second["targets"] if t["address"] == ENGINE)
    assert rows[0]["target"]["containers"] == second_target["containers"]
    open_second = [f for f in second["findings"] if f["status"] == "open" and f["resource"]["host"] == target]
    assert rows[0]["summary"]["total"] == len(open_second)
    with open_store(store_url) as db_store:
        assert {f.fingerprint for f in db_store.findings(diff["new"]["scan_id"])} == {
            f["fingerprint"] for f in second["findings"]
        }


def test_markdown_and_html_diff_of_the_same_scans(engine_objects, store_url, tmp_path):
    net = engine_objects.network("histm")
    engine_objects.container("one", ports={"6379/tcp": ("0.0.0.0", free_port())}, network=net.name)
    first = scan_into(store_url)
    engine_objects.container("two", ports={"9200/tcp": ("0.0.0.0", free_port())}, network=net.name)
    scan_into(store_url)
    target = next(t["name"] for t in first["targets"] if t["address"] == ENGINE)
    md, html = tmp_path / "d.md", tmp_path / "d.html"
    code, out, err = run(
        diff_command, ["--store", store_url, "--target", target, "-o", str(md), "-o", str(html), "-f", "json"]
    )
    assert code == 0, err
    diff = json.loads(out)
    two = engine_objects.containers[-1].name
    text = md.read_text()
    assert f"## New findings ({diff['summary']['new']})" in text
    assert two in text
    page = html.read_text()
    assert f'<span id="count-new">{diff["summary"]["new"]} new</span>' in page
    assert two in page
