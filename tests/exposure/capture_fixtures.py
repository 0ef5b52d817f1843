"""Capture ``tests/fixtures/netfilter/<scenario>/`` from throwaway engines (run by hand, root).

Each scenario starts a dockerd in its own network namespace (``tests/support/exposure_lab``)
with the scenario's daemon flags, creates the scenario's networks and containers, applies
its extra rules, then saves: the exposure dumps, the trimmed ``docker inspect`` of its
containers and networks, and ``probes.json``: real TCP connection attempts from the LAN
host, an "internet" source, the host and containers, with what the kernel did. The unit
tests replay the dumps offline and compare the model's answers with those outcomes.

Usage: ``.venv/bin/python tests/exposure/capture_fixtures.py [SCENARIO ...]``
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from support.exposure_lab import lab  # noqa: E402
from support.exposure_scenarios import SCENARIOS, Scenario, prepare, standard_probes  # noqa: E402

OUT = ROOT / "tests" / "fixtures" / "netfilter"

KEEP_CONTAINER = {
    "Id": None,
    "Name": None,
    "State": {"Status": None, "Running": None},
    "Config": {"Image": None, "ExposedPorts": None, "Labels": None},
    "HostConfig": {"NetworkMode": None, "PortBindings": None, "PublishAllPorts": None},
    "NetworkSettings": {"Ports": None, "Networks": None},
}
KEEP_ENDPOINT = (
    "NetworkID",
    "IPAddress",
    "IPPrefixLen",
    "Gateway",
    "GlobalIPv6Address",
    "GlobalIPv6PrefixLen",
    "Aliases",
)
KEEP_NETWORK = (
    "Name",
    "Id",
    "Driver",
    "Scope",
    "Internal",
    "Attachable",
    "Ingress",
    "EnableIPv6",
    "IPAM",
    "Options",
    "Labels",
)


def _trim(doc: dict, keep: dict) -> dict:
    out = {}
    for key, sub in keep.items():
        if key not in doc:
            continue
        out[key] = _trim(doc[key], sub) if isinstance(sub, dict) and isinstance(doc[key], dict) else doc[key]
    return out


def trim_container(doc: dict) -> dict:
    out = _trim(doc, KEEP_CONTAINER)
    nets = out.get("NetworkSettings", {}).get("Networks") or {}
    out["NetworkSettings"]["Networks"] = {n: {k: ep.get(k) for k in KEEP_ENDPOINT} for n, ep in nets.items()}
    return out


def trim_network(doc: dict) -> dict:
    return {k: doc.get(k) for k in KEEP_NETWORK}


def capture(scenario: Scenario) -> None:
    target = OUT / scenario.name
    with lab(scenario.name[:10], scenario.daemon_args) as engine:
        prepare(engine, scenario)
        probes = standard_probes(engine)
        dumps = engine.dumps()
        containers, networks = engine.inspect()
    target.mkdir(parents=True, exist_ok=True)
    for old in target.iterdir():
        old.unlink()
    for name, text in dumps.items():
        (target / name).write_text(text)  # an empty dump (no ip6tables tables) is a fact too
    (target / "containers.json").write_text(
        json.dumps(
            sorted((trim_container(c) for c in containers), key=lambda d: d["Name"]), indent=1, sort_keys=True
        )
        + "\n"
    )
    (target / "networks.json").write_text(
        json.dumps(
            sorted((trim_network(n) for n in networks), key=lambda d: d["Name"]), indent=1, sort_keys=True
        )
        + "\n"
    )
    (target / "probes.json").write_text(json.dumps(probes, indent=1, sort_keys=True) + "\n")
    (target / "README").write_text(
        f"{scenario.notes}\nCaptured by tests/exposure/capture_fixtures.py in a throwaway namespace engine.\n"
    )
    print(f"{scenario.name}: {sum(p['outcome'] == 'open' for p in probes)}/{len(probes)} probes open")


def main(names: list[str]) -> None:
    for name in names or list(SCENARIOS):
        capture(SCENARIOS[name])


if __name__ == "__main__":
    main(sys.argv[1:])
