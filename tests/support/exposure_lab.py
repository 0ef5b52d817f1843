"""The exposure model against real packets, on the shared engine lab (``support.lab``).

- ``serve``: a container answering each TCP port it exposes with its own name (busybox ``nc``),
  so a probe tells who answered: with the userland proxy a published port accepts even when
  the proxy cannot reach the container, and then no name comes back.
- ``read_facts``: the exposure readers (``read_firewall``, ``read_host_network``) run inside a
  lab engine's network namespace, as the scanner runs them on a host.
- ``model_records``: the engine's containers and networks as model records.
- ``Probers``: which lab namespace plays each zone (an outside host on the LAN, a host beyond
  the router, the engine itself, a container on a network), with its real source addresses.
- ``compare``: every attempt of every cell probed from its zone's prober, and the tally.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import sys
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from auditor.collectors.inspect import normalize_container, normalize_network
from auditor.exposure import (
    Attempt,
    Cell,
    ExposureMatrix,
    FirewallFacts,
    HostNetwork,
    Verdict,
    analyze_exposure,
)
from auditor.exposure.facts import facts_from_json, firewall_facts
from auditor.model.records import Container, Network, SourceKind, Target

from .lab import Lab, Outcome, ProbeResult
from .lab import Target as Probe

LABEL = {"io.auditor.test": "1"}
TARGET = Target(SourceKind.ENGINE, "lab", "lab")
READ_FACTS = (
    "import json, sys\n"
    "from auditor.exposure.facts import facts_to_json, read_firewall, read_host_network\n"
    "json.dump(facts_to_json(read_firewall(), read_host_network()), sys.stdout)\n"
)
BANNER_WAIT = 3.0  # an accepted connection may take this long to answer (httpd forks)
REQUEST = b"GET / HTTP/1.0\r\n\r\n"


def serve(
    lab: Lab,
    engine: str,
    name: str,
    ports: Iterable[int] = (),
    *,
    network: str = "bridge",
    publish: Mapping[int, int | tuple[str, int]] | None = None,
    network_mode: str | None = None,
) -> str:
    """Start ``name`` on ``engine``: every port in ``ports`` is exposed and serves a page
    naming the container (busybox httpd, which forks per connection: ``nc -ll`` listens with
    a backlog of one, so concurrent probes would wait on each other); ``publish`` maps
    container ports to a host port or (host address, host port). No ports: a silent
    container (a prober)."""
    api = lab.engines[engine].client.api
    ports = list(ports)
    servers = " ".join(f"httpd -f -p {p} -h /www &" for p in ports)
    html = page(name).decode()
    command = ["sh", "-c", f"mkdir -p /www && echo {html} > /www/index.html; {servers} exec sleep 86400"]
    host_config = api.create_host_config(
        port_bindings=dict(publish or {}), network_mode=network_mode or network
    )
    created = api.create_container(
        lab.image, command, name=name, ports=ports or None, host_config=host_config, labels=LABEL
    )
    api.start(created["Id"])
    return created["Id"]


def page(name: str) -> bytes:
    return f"exposure-lab-{name}".encode()


def answered_by(result: ProbeResult, name: str) -> bool:
    """Whether a probe got the page of container ``name`` (not just an accepted connection)."""
    return result.outcome is Outcome.OPEN and page(name) in (result.banner or b"")


def asked(lab: Lab, source: str, address: str, port: int) -> ProbeResult:
    """One probe that asks for the page."""
    return lab.probe_each({source: [Probe(address, port)]}, banner=True, request=REQUEST)[source][0]


def wait_answer(lab: Lab, source: str, address: str, port: int, name: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while True:
        result = asked(lab, source, address, port)
        if answered_by(result, name):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{name} does not answer {source} at {address}:{port}: {result}")
        time.sleep(0.2)


def addresses(lab: Lab, engine: str, container: str) -> dict[str, tuple[str | None, str | None]]:
    """Network name -> (IPv4, IPv6) of a container."""
    doc = lab.engines[engine].client.api.inspect_container(container)
    return {
        net: (ep.get("IPAddress") or None, ep.get("GlobalIPv6Address") or None)
        for net, ep in (doc["NetworkSettings"]["Networks"] or {}).items()
    }


def wait_serving(lab: Lab, engine: str, names: Iterable[str], ports: Mapping[str, Iterable[int]]) -> None:
    """Until every server answers from the engine's own namespace (nc needs a moment)."""
    for name in names:
        v4 = next(a for a, _ in addresses(lab, engine, name).values() if a)
        for port in ports.get(name, ()):
            wait_answer(lab, engine, v4, port, name)


def read_facts(lab: Lab, engine: str) -> tuple[FirewallFacts, HostNetwork]:
    """The exposure readers, run inside the engine's network namespace."""
    out = lab.run(engine, [sys.executable, "-c", READ_FACTS]).stdout
    firewall, network = facts_from_json(json.loads(out))
    assert firewall is not None and network is not None
    return firewall, network


def with_iptables(base: FirewallFacts, iptables_save: str) -> FirewallFacts:
    """``base`` with a new IPv4 dump (the nft dump still shows which tables are iptables')."""
    return firewall_facts(
        iptables_save=iptables_save,
        ip6tables_save=base.ip6tables_save,
        nft_json=base.nft_json,
        iptables_legacy_save=base.iptables_legacy_save,
        ip6tables_legacy_save=base.ip6tables_legacy_save,
        ipset_save=base.ipset_save,
        source=base.source,
    )


def model_records(lab: Lab, engine: str) -> tuple[list[Container], list[Network]]:
    api = lab.engines[engine].client.api
    containers = [normalize_container(api.inspect_container(c["Id"]), TARGET) for c in api.containers()]
    networks = [normalize_network(api.inspect_network(n["Id"]), TARGET) for n in api.networks()]
    return containers, networks


@dataclass(frozen=True)
class Prober:
    """Who plays a zone: a lab namespace (``source``) or a container (``(engine, name)``)."""

    source: str | tuple[str, str]
    v4: str | None
    v6: str | None


def probers(lab: Lab, engine: str, lan_host: str, networks: Mapping[str, str]) -> dict[str, Prober]:
    """The zones of ``engine`` the lab can play: ``lan:eth0`` (``lan_host``, which routes the
    engine's bridge subnets via the engine), ``internet:eth0`` (the first internet host),
    ``host``, and ``network:NAME`` for each network in ``networks`` (network -> a silent
    prober container)."""
    lan = lab.hosts[lan_host]
    out = {"lan:eth0": Prober(lan.name, lan.lan_ip, lan.lan_ip6), "host": Prober(engine, None, None)}
    remote = next((h for h in lab.hosts.values() if h.plan.segment == "internet"), None)
    if remote is not None:
        out["internet:eth0"] = Prober(remote.name, remote.lan_ip, remote.lan_ip6)
    for net, container in networks.items():
        v4, v6 = addresses(lab, engine, container)[net]
        out[f"network:{net}"] = Prober((engine, container), v4, v6)
    return out


def route_lan_host(lab: Lab, engine: str, lan_host: str) -> None:
    """``lan_host`` routes every subnet of the engine's bridge networks via the engine."""
    eng = lab.engines[engine]
    for net in eng.client.api.networks(filters={"driver": "bridge"}):
        for cfg in eng.client.api.inspect_network(net["Id"])["IPAM"]["Config"] or []:
            subnet = cfg.get("Subnet")
            if subnet:
                lab.add_route(lan_host, subnet, eng.lan_ip6 if ":" in subnet else eng.lan_ip)


def analyze(
    lab: Lab,
    engine: str,
    found: Mapping[str, Prober],
    facts: tuple[FirewallFacts, HostNetwork] | None = None,
    records: tuple[list[Container], list[Network]] | None = None,
) -> ExposureMatrix:
    """The engine's matrix, every attempt followed, from the probers' real addresses."""
    firewall, network = facts or read_facts(lab, engine)
    containers, networks = records or model_records(lab, engine)
    return analyze_exposure(
        containers,
        networks,
        firewall,
        network,
        every_attempt=True,
        sources={zone: (p.v4, p.v6) for zone, p in found.items() if zone != "host"},
    )


@dataclass
class Tally:
    """What one comparison found. Pairs are (zone, container port) cells; attempts are the
    ways into a cell (each probed)."""

    cells: int = 0
    cells_agree: int = 0
    cells_unknown: int = 0
    attempts: int = 0
    attempts_agree: int = 0
    attempts_unknown: int = 0
    disagreements: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        for name in (
            "cells",
            "cells_agree",
            "cells_unknown",
            "attempts",
            "attempts_agree",
            "attempts_unknown",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.disagreements += other.disagreements

    def summary(self) -> str:
        return (
            f"{self.cells} cells: {self.cells_agree} agree, {self.cells_unknown} unknown; "
            f"{self.attempts} attempts: {self.attempts_agree} agree, {self.attempts_unknown} unknown; "
            f"{len(self.disagreements)} disagree"
        )


def _split(destination: str) -> tuple[str, int]:
    host, _, port = destination.rpartition(":")
    return host.strip("[]"), int(port)


@dataclass(frozen=True)
class _Check:
    cell: Cell
    attempt: Attempt | None  # None: the model has no way in, the container must stay silent
    probe: Probe
    loopback: bool  # 127.0.0.1 sent out of the LAN host's interface


def _checks(matrix: ExposureMatrix, found: Mapping[str, Prober], engine: str) -> list[_Check]:
    targets = {(t.container, t.port, t.protocol): t for t in matrix.targets}
    out = []
    for cell in matrix.cells:
        prober = found.get(cell.zone)
        if prober is None:
            continue
        wanted: list[tuple[Attempt | None, Probe]] = []
        for attempt in cell.attempts:
            host, port = _split(attempt.destination)
            wanted.append((attempt, Probe(host, port, cell.protocol)))
        if not cell.attempts:
            for entry in targets[(cell.container, cell.port, cell.protocol)].addresses:
                address = entry.split("=", 1)[1]
                v6 = ipaddress.ip_address(address).version == 6
                if prober.source == engine or (prober.v6 if v6 else prober.v4):
                    wanted.append((None, Probe(address, cell.port, cell.protocol)))
        for attempt, probe in wanted:
            loopback = cell.zone.startswith("lan:") and probe.address == "127.0.0.1"
            out.append(_Check(cell, attempt, probe, loopback))
    return out


def compare(
    lab: Lab,
    engine: str,
    matrix: ExposureMatrix,
    found: Mapping[str, Prober],
    *,
    timeout: float = 0.3,
    retry_timeout: float = 1.0,
) -> Tally:
    """Probe every attempt of every cell whose zone has a prober; reachable means the
    container answered with its name. A cell the model gives no attempt is probed at the
    container's own addresses, which must not answer. Attempts to 127.0.0.1 from the LAN go
    out of the LAN host's interface (``Lab.loopback_via``)."""
    checks = _checks(matrix, found, engine)
    options = {
        "timeout": timeout,
        "retry_timeout": retry_timeout,
        "banner": True,
        "banner_wait": BANNER_WAIT,
        "request": REQUEST,
    }
    plan: dict[str | tuple[str, str], list[Probe]] = {}
    for check in checks:
        plan.setdefault(found[check.cell.zone].source, []).append(check.probe)
    lan_host = found["lan:eth0"].source
    assert isinstance(lan_host, str)
    # The LAN host's other probes never use its loopback, so one round serves both.
    sending = (
        lab.loopback_via(lan_host, engine) if any(c.loopback for c in checks) else contextlib.nullcontext()
    )
    with sending:
        results = {source: iter(got) for source, got in lab.probe_each(plan, **options).items()}
    tally = Tally()
    seen: dict[tuple[str, str, int, str], list[tuple[_Check, bool]]] = {}
    for check in checks:
        cell = check.cell
        result = next(results[found[cell.zone].source])
        answered = answered_by(result, cell.container)
        seen.setdefault((cell.zone, cell.container, cell.port, cell.protocol), []).append((check, answered))
        if check.attempt is None:
            continue
        tally.attempts += 1
        verdict = check.attempt.verdict
        if verdict is Verdict.UNKNOWN:
            tally.attempts_unknown += 1
        elif (verdict is Verdict.REACHABLE) == answered:
            tally.attempts_agree += 1
        else:
            tally.disagreements.append(
                f"{engine} {cell.zone} -> {cell.container}:{cell.port} at {check.attempt.destination}: "
                f"model {verdict.value}, packets {result.outcome.value} {result.banner!r}; {check.attempt.trace}"
            )
    for (zone, container, port, _proto), answers in seen.items():
        cell = answers[0][0].cell
        tally.cells += 1
        real = any(answered for _, answered in answers)
        if cell.verdict is Verdict.UNKNOWN:
            tally.cells_unknown += 1
        elif (cell.verdict is Verdict.REACHABLE) == real:
            tally.cells_agree += 1
        elif not cell.attempts:
            tally.disagreements.append(
                f"{engine} {zone} -> {container}:{port}: no way in the model, yet it answered"
            )
    return tally


@dataclass
class ExposureLab:
    """A lab whose engines run the standard scenario (``exposure_scenarios.standard``), with
    the LAN host routing their bridge subnets and the zones' probers found."""

    lab: Lab
    setups: dict
    lan_hosts: dict[str, str]  # engine -> its own LAN host (probes of two engines at once)
    probers: dict[str, dict[str, Prober]]

    @classmethod
    def start(cls, lab: Lab, options: Mapping[str, Mapping[str, bool]]) -> ExposureLab:
        """Each engine gets the standard scenario and a LAN host of its own, in order."""
        from .exposure_scenarios import standard

        def one(engine: str):
            return standard(lab, engine, **options.get(engine, {}))

        with ThreadPoolExecutor(max_workers=len(lab.engines)) as pool:
            setups = dict(zip(lab.engines, pool.map(one, list(lab.engines)), strict=True))
        lan = [h.name for h in lab.hosts.values() if h.plan.segment == "lan"]
        lan_hosts = dict(zip(lab.engines, lan, strict=True))
        found = {}
        for engine, setup in setups.items():
            route_lan_host(lab, engine, lan_hosts[engine])
            found[engine] = probers(lab, engine, lan_hosts[engine], setup.probers)
        return cls(lab, setups, lan_hosts, found)

    def check(self, engine: str, **kwargs) -> tuple[ExposureMatrix, Tally]:
        """The engine's matrix now, and how it compares with packets sent now."""
        matrix = analyze(self.lab, engine, self.probers[engine])
        return matrix, compare(self.lab, engine, matrix, self.probers[engine], **kwargs)
