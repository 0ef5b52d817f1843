"""Daemon and firewall facts that the Engine API does not expose, read on the local host."""

from __future__ import annotations


def read_local_host_facts() -> dict:
    """Facts keyed by ``DaemonFacts`` field name; absent keys stay unknown."""
    return {}
