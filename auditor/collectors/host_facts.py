"""Parsers of the daemon and firewall facts that the Engine API does not expose.

A dockerd command line, its daemon.json, the engine's version, ``iptables-save``,
``nft -j list ruleset`` and UFW's config each become facts keyed like ``DaemonFacts``; defaults
are applied only when the full configuration (command line and config file) is known. All
pure functions, so saved dumps can be tested; ``daemon_facts`` reads them from the daemon
behind a scanned address.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from auditor.model.jsontext import loads

DEFAULT_CONFIG = "/etc/docker/daemon.json"

# daemon.json key / long flag name -> DaemonFacts field, for boolean settings.
BOOL_SETTINGS = {
    "icc": "icc",
    "userland-proxy": "userland_proxy",
    "iptables": "iptables",
    "ip6tables": "ip6tables",
    "ipv6": "ipv6",
    "allow-direct-routing": "allow_direct_routing",
}
# Defaults of dockerd when a setting is absent (ip6tables depends on the version).
BOOL_DEFAULTS = {
    "icc": True,
    "userland-proxy": True,
    "iptables": True,
    "ipv6": False,
    "allow-direct-routing": False,
}
_VALUE_FLAGS = {"ip", "config-file", "host", "tlscacert", "tlscert", "tlskey"}
_BOOL_FLAGS = set(BOOL_SETTINGS) | {"tls", "tlsverify"}


def _to_bool(text: str) -> bool | None:
    lowered = text.strip().lower()
    if lowered in ("1", "t", "true"):
        return True
    if lowered in ("0", "f", "false"):
        return False
    return None


def parse_dockerd_args(args: Sequence[str]) -> dict[str, Any]:
    """Explicit settings on a dockerd command line, keyed like daemon.json (``hosts`` a list).

    Boolean flags follow Go's flag rules: ``--iptables`` or ``--iptables=false``, never a
    separate value. ``-H``/``--host`` may repeat and take ``=value``, a separate value or
    (for ``-H``) an attached one.
    """
    out: dict[str, Any] = {}
    hosts: list[str] = []
    items = list(args[1:])
    i = 0
    while i < len(items):
        arg = items[i]
        i += 1
        if arg.startswith("-H") and not arg.startswith("--"):
            value = arg[2:].lstrip("=")
            if not value and i < len(items):
                value, i = items[i], i + 1
            hosts.append(value)
            continue
        if not arg.startswith("--"):
            continue
        name, eq, value = arg[2:].partition("=")
        if name in _BOOL_FLAGS:
            parsed = _to_bool(value) if eq else True
            if parsed is not None:
                out[name] = parsed
        elif name in _VALUE_FLAGS:
            if not eq and i < len(items):
                value, i = items[i], i + 1
            if name == "host":
                hosts.append(value)
            else:
                out[name] = value
    if hosts:
        out["hosts"] = hosts
    return out


def parse_daemon_json(text: str) -> dict[str, Any]:
    """The settings of a daemon.json that matter here; raises ``ValueError`` when malformed."""
    doc = json.loads(text)
    if not isinstance(doc, dict):
        raise ValueError("daemon.json is not a JSON object")
    out: dict[str, Any] = {}
    for key in (*BOOL_SETTINGS, "tls", "tlsverify"):
        if isinstance(doc.get(key), bool):
            out[key] = doc[key]
    if isinstance(doc.get("ip"), str):
        out["ip"] = doc["ip"]
    if isinstance(doc.get("hosts"), list):
        out["hosts"] = [str(h) for h in doc["hosts"]]
    return out


def parse_server_version(text: str | None) -> tuple[int, int, int] | None:
    """The engine's ``Version`` from the API, ``20.10.24+dfsg1`` -> ``(20, 10, 24)``."""
    match = re.match(r"v?(\d+)\.(\d+)(?:\.(\d+))?", (text or "").strip())
    if not match:
        return None
    return int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)


def resolve_daemon_settings(
    settings: Mapping[str, Any], complete: bool, version: tuple[int, int, int] | None = None
) -> dict[str, Any]:
    """DaemonFacts fields from explicit settings; defaults only when ``complete`` is true."""
    facts: dict[str, Any] = {}
    for key, field_name in BOOL_SETTINGS.items():
        if key in settings:
            facts[field_name] = settings[key]
        elif complete and key in BOOL_DEFAULTS:
            facts[field_name] = BOOL_DEFAULTS[key]
        elif complete and key == "ip6tables" and version is not None:
            facts[field_name] = version >= (27, 0, 0)  # on by default since engine 27.0
    if settings.get("ip"):
        facts["default_bind_ip"] = settings["ip"]
    tcp = [h for h in settings.get("hosts", []) if h.startswith("tcp://")]
    if tcp and not settings.get("tlsverify"):
        facts["tcp_api_without_tls"] = True
        facts["tcp_api_endpoints"] = tuple(tcp)
    elif complete:
        facts["tcp_api_without_tls"] = False
    return facts


def parse_iptables_save(text: str) -> dict[str, Any]:
    """Firewall facts from ``iptables-save``: DOCKER-USER filtering and UFW's chains."""
    user_rules = [
        line
        for line in text.splitlines()
        if line.startswith("-A DOCKER-USER ") and line.strip() != "-A DOCKER-USER -j RETURN"
    ]
    ufw_chains = any(line.startswith((":ufw-", ":ufw6-")) for line in text.splitlines())
    return {"docker_user_filters": bool(user_rules), "ufw_chains": ufw_chains}


def parse_nft_ruleset(text: str) -> dict[str, Any]:
    """Facts from ``nft -j list ruleset`` (or the text of ``nft list ruleset``): whether
    firewalld's own table (``inet firewalld``) is there."""
    if text.lstrip().startswith("{"):
        try:
            doc = loads(text)
        except ValueError:
            return {"firewalld_table": None}
        items = doc.get("nftables") if isinstance(doc, dict) else None
        tables = [i.get("table") for i in items if isinstance(i, dict)] if isinstance(items, list) else []
        firewalld = any(isinstance(t, dict) and (t.get("family"), t.get("name")) == ("inet", "firewalld")
                        for t in tables)  # fmt: skip
        return {"firewalld_table": firewalld}
    return {"firewalld_table": bool(re.search(r"^table inet firewalld\b", text, re.MULTILINE))}


def parse_ufw_conf(text: str) -> bool | None:
    """``ENABLED=yes`` in /etc/ufw/ufw.conf."""
    match = re.search(r"^\s*ENABLED\s*=\s*\"?(\w+)\"?", text, re.MULTILINE)
    return None if match is None else match.group(1).lower() == "yes"
