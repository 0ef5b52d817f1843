"""Effective exposure: who can really reach each container port, from the host's firewall.

Readers turn the host's dumps (iptables-save, ip6tables-save, nft -j, ip -j addr/route,
sysctls, docker-proxy processes, ss) into frozen ``FirewallFacts`` and ``HostNetwork``
records; ``analyze_exposure`` follows a connection attempt from every source zone to every
container port through the netfilter hooks and answers reachable / blocked / unknown with
the trace of the rules that decided it. Imports nothing from auditor but the model (and
its error type). See docs/exposure.md.

The names below are loaded on first use: a module that needs one piece of the package
(the command runner, say) does not import the analysis with it.
"""

from __future__ import annotations

import importlib
from typing import Any

# name -> the module that defines it
_EXPORTS = {
    "analyze_exposure": "analysis",
    "bridge_name": "analysis",
    "FirewallFacts": "facts",
    "HostNetwork": "facts",
    "facts_from_json": "facts",
    "facts_to_json": "facts",
    "firewall_facts": "facts",
    "host_network": "facts",
    "load_dumps": "facts",
    "read_firewall": "facts",
    "read_host_network": "facts",
    "write_dumps": "facts",
    "EXPOSURE_SCHEMA_VERSION": "matrix",
    "Attempt": "matrix",
    "Cell": "matrix",
    "ExposureMatrix": "matrix",
    "PortTarget": "matrix",
    "Verdict": "matrix",
    "Zone": "matrix",
    "ZoneKind": "matrix",
    "matrix_to_json": "matrix",
    "render_trace": "matrix",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
