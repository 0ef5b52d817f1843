"""Shapes seen in public compose files, written here by hand: what each gives end to end
(reader + every built-in rule), as the findings a user reads."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from auditor.audit.discovery import discover_rules
from auditor.audit.run import run_rules
from auditor.collectors.compose import ProjectSpec, load_project


def findings(tmp_path: Path, text: str, name: str = "compose.yaml"):
    (tmp_path / name).write_text(text)
    snap = load_project(ProjectSpec((tmp_path / name,), tmp_path), environ={})
    run = run_rules(snap, discover_rules())
    assert not run.errors, run.errors
    return list(run.findings)


def test_a_udp_range_entry_is_one_finding_per_rule(tmp_path: Path) -> None:
    got = findings(
        tmp_path,
        """services:
  rtc:
    image: example/media-server:1
    ports:
      - "49152-49400:49152-49400/udp"
      - "12400-12500:1240"
""",
    )
    per_rule = Counter((f.rule_id, f.location.line) for f in got)
    assert per_rule == Counter({("PORT001", 5): 1, ("PORT004", 5): 1, ("PORT001", 6): 1})
    [wide] = [f for f in got if f.rule_id == "PORT004"]
    assert wide.message == "rtc publishes 249 host ports 49152-49400/udp on *."
    [entry] = [f for f in got if f.rule_id == "PORT001" and f.location.line == 5]
    assert (
        entry.message
        == "rtc publishes 49152-49400/udp (249 ports) on host ports 49152-49400 of all interfaces (no host IP given)."
    )
    assert dict(entry.evidence)["ports"] == "249"


def test_privileged_vpn_on_host_network(tmp_path: Path) -> None:
    got = findings(
        tmp_path,
        """services:
  vpn:
    image: example/vpn:2
    network_mode: host
    privileged: true
  fw:
    image: example/fw:1
    network_mode: host
    cap_add:
      - NET_ADMIN
      - NET_RAW
      - SYS_MODULE
""",
    )
    got = sorted((f.rule_id, f.resource.name, f.severity.label, f.location.line) for f in got)
    assert got == [
        ("NET003", "fw", "high", 8),
        ("NET003", "vpn", "high", 4),
        ("NET010", "vpn", "critical", 5),
        ("NET011", "fw", "critical", 10),
        ("NET011", "fw", "critical", 12),
        ("NET011", "fw", "high", 11),
    ]


def test_net_raw_noise_is_one_finding_per_network(tmp_path: Path) -> None:
    got = findings(
        tmp_path,
        """services:
  web: {image: example/web:1}
  worker: {image: example/worker:1}
  cache: {image: example/cache:1}
  solo: {image: example/solo:1, networks: [own]}
networks:
  own: {}
""",
    )
    net_raw = [f for f in got if f.rule_id == "NET009"]
    assert [(f.resource.kind, f.resource.name, dict(f.evidence)["members"]) for f in net_raw] == [
        ("network", f"{tmp_path.name.lower()}_default", "cache, web, worker")
    ]


def test_a_service_is_named_by_its_key_everywhere_with_container_name_in_evidence(tmp_path: Path) -> None:
    got = findings(
        tmp_path,
        """services:
  proxy:
    image: example/proxy:1
    container_name: edge-proxy
    network_mode: host
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock
  app:
    image: example/app:1
    container_name: app-1
    ports: ["8080:8080"]
""",
    )
    assert {(f.rule_id, f.resource.name) for f in got} == {
        ("HOST002", "proxy"),
        ("NET003", "proxy"),
        ("PORT001", "app"),
    }
    assert all(f.message.startswith(f.resource.name + " ") for f in got)
    assert {f.resource.name: dict(f.evidence)["container_name"] for f in got} == {
        "proxy": "edge-proxy",
        "app": "app-1",
    }


def test_findings_of_one_severity_follow_the_file_line_by_line(tmp_path: Path) -> None:
    from auditor.model.findings import sort_findings

    got = sort_findings(
        findings(
            tmp_path,
            """services:
  z-last:
    image: example/z:1
    ports: ["8001:8001"]
  a-first:
    image: example/a:1
    ports: ["8002:8002", "8003:8003"]
""",
        )
    )
    assert [(f.rule_id, f.location.line) for f in got if f.rule_id == "PORT001"] == [
        ("PORT001", 4),
        ("PORT001", 7),
        ("PORT001", 7),
    ]
