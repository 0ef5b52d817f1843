"""Built-in rules: one module per rule, listed explicitly (no import-time registration)."""

from __future__ import annotations

from . import (
    host002_docker_socket,
    net001_default_bridge,
    net003_host_network,
    port001_all_interfaces,
    port002_sensitive_service,
)

BUILTIN_RULES = (
    port001_all_interfaces.RULE,
    port002_sensitive_service.RULE,
    net001_default_bridge.RULE,
    net003_host_network.RULE,
    host002_docker_socket.RULE,
)
