"""Load: scans while containers come and go, and a host with many containers and networks.

Defaults stay modest for the test command (150 containers, 40 networks);
``AUDITOR_LOAD_CONTAINERS`` / ``AUDITOR_LOAD_NETWORKS`` raise them (e.g. 800 / 300).
Networks get explicit /26 subnets inside 172.31.0.0/16 (or the next free /16 below it), so
many of them fit without exhausting the daemon's default address pools. No traffic is sent.
"""

from __future__ import annotations

import ipaddress
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import docker.errors
import pytest
from docker.types import IPAMConfig, IPAMPool
from hardening.harness import record
from support.engine import labels, unique

pytestmark = pytest.mark.engine

CONTAINERS = int(os.environ.get("AUDITOR_LOAD_CONTAINERS") or 150)
NETWORKS = int(os.environ.get("AUDITOR_LOAD_NETWORKS") or 40)
CHURN_SCANS = 5


def _create_networks(client, prefix: str, count: int) -> list:
    """``count`` labelled bridge networks with explicit small subnets."""
    for block in ("172.31.0.0/16", "172.30.0.0/16", "172.29.0.0/16"):
        subnets = list(ipaddress.ip_network(block).subnets(new_prefix=26))[:count]
        made = []
        try:
            for i, subnet in enumerate(subnets):
                made.append(
                    client.networks.create(
                        f"{prefix}-n{i}",
                        labels=labels(),
                        internal=True,
                        ipam=IPAMConfig(pool_configs=[IPAMPool(subnet=str(subnet))]),
                    )
                )
            return made
        except docker.errors.APIError as exc:
            for n in made:
                n.remove()
            if "overlap" not in str(exc).lower():
                raise
    pytest.skip("no free /16 for the load test's networks")


def test_many_containers_and_networks(docker_client, test_image, cli, tmp_path):
    """Every one of our containers and networks is scanned; published ones are each reported."""
    prefix = unique("load")
    networks = _create_networks(docker_client, prefix, NETWORKS)
    containers: list = []
    try:

        def make(i: int):
            ports = {"8080/tcp": ("0.0.0.0", 20000 + i)} if i % 2 == 0 else None
            return docker_client.containers.create(
                test_image,
                "sleep 3600",
                name=f"{prefix}-c{i}",
                labels=labels(),
                network=networks[i % len(networks)].name,
                ports=ports,
            )

        with ThreadPoolExecutor(max_workers=4) as pool:
            containers = list(pool.map(make, range(CONTAINERS)))
        proc = cli(
            "scan", "-f", "json", "--fail-on", "none", "-o", f"json:{tmp_path / 'r.json'}", timeout=600
        )
        assert proc.returncode == 0, proc.stderr
        doc = json.loads(proc.stdout)
        (target,) = doc["targets"]
        assert target["status"] == "complete"
        assert target["containers"] >= CONTAINERS and target["networks"] >= NETWORKS
        published = {f"{prefix}-c{i}" for i in range(0, CONTAINERS, 2)}
        reported = {
            f["resource"]["name"]
            for f in doc["findings"]
            if f["rule_id"] == "PORT001" and f["resource"]["name"].startswith(prefix)
        }
        assert reported == published
        record(
            "load",
            f"{CONTAINERS} containers on {NETWORKS} networks",
            "complete scan, every published port reported",
            inputs=CONTAINERS + NETWORKS,
        )
    finally:
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(lambda c: c.remove(force=True), containers))
        for n in networks:
            n.remove()


def test_scan_while_containers_churn(docker_client, test_image, cli):
    """Containers and networks created and removed continuously: every scan still completes."""
    prefix = unique("churn")
    stop = threading.Event()
    ops = {"created": 0, "removed": 0}
    errors: list[str] = []

    def churn() -> None:
        i = 0
        deadline = time.monotonic() + 300  # bounded even if the scans hang
        while not stop.is_set() and time.monotonic() < deadline and i < 2000:
            i += 1
            try:
                net = docker_client.networks.create(f"{prefix}-n{i}", labels=labels(), internal=True)
                c = docker_client.containers.run(
                    test_image,
                    "sleep 3600",
                    name=f"{prefix}-c{i}",
                    detach=True,
                    labels=labels(),
                    network=net.name,
                    ports={"80/tcp": None},
                )
                ops["created"] += 2
                c.remove(force=True)
                net.remove()
                ops["removed"] += 2
            except docker.errors.APIError as exc:
                errors.append(str(exc))

    worker = threading.Thread(target=churn, daemon=True)
    worker.start()
    try:
        outcomes = []
        for _ in range(CHURN_SCANS):
            proc = cli("scan", "-f", "json", "--fail-on", "none", timeout=300)
            doc = json.loads(proc.stdout)
            outcomes.append((proc.returncode, doc["targets"][0]["status"], len(doc["targets"][0]["notes"])))
    finally:
        stop.set()
        worker.join(timeout=120)
    assert [o[:2] for o in outcomes] == [(0, "complete")] * CHURN_SCANS, outcomes
    assert ops["created"] > 0 and not errors, errors
    skipped = sum(o[2] for o in outcomes)
    record(
        "load",
        f"{CHURN_SCANS} scans during container/network churn",
        f"all complete; {skipped} objects vanished mid-scan and were noted",
        inputs=CHURN_SCANS,
        faults=ops["created"] + ops["removed"],
    )
