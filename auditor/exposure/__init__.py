"""Effective exposure: who can really reach each container port, from the host's firewall.

Readers turn the host's dumps (iptables-save, ip6tables-save, nft -j, ip -j addr/route,
sysctls, docker-proxy processes, ss) into frozen ``FirewallFacts`` and ``HostNetwork``
records; ``analyze_exposure`` follows a connection attempt from every source zone to every
container port through the netfilter hooks and answers reachable / blocked / unknown with
the trace of the rules that decided it. Imports nothing from auditor but the model (and
its error type). See docs/exposure.md.
"""

from auditor.exposure.analysis import analyze_exposure, bridge_name
from auditor.exposure.facts import (
    FirewallFacts,
    HostNetwork,
    facts_from_json,
    facts_to_json,
    firewall_facts,
    host_network,
    load_dumps,
    read_firewall,
    read_host_network,
    write_dumps,
)
from auditor.exposure.matrix import (
    EXPOSURE_SCHEMA_VERSION,
    Attempt,
    Cell,
    ExposureMatrix,
    PortTarget,
    Verdict,
    Zone,
    ZoneKind,
    matrix_to_json,
    render_trace,
)

__all__ = [
    "EXPOSURE_SCHEMA_VERSION",
    "Attempt",
    "Cell",
    "ExposureMatrix",
    "FirewallFacts",
    "HostNetwork",
    "PortTarget",
    "Verdict",
    "Zone",
    "ZoneKind",
    "analyze_exposure",
    "bridge_name",
    "facts_from_json",
    "facts_to_json",
    "firewall_facts",
    "host_network",
    "load_dumps",
    "matrix_to_json",
    "read_firewall",
    "read_host_network",
    "render_trace",
    "write_dumps",
]
