"""What a run depends on before anything starts: the user's ``Options`` and the host's ``Capabilities``.

Plain records at the bottom of the package, so that modes, the plan and the environment can
all read them without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Options:
    """What the user asked for (validated by ``plan.options``); ``modes`` are mode names."""

    modes: tuple[str, ...]
    duration: float = 5.0
    repeat: int = 5
    warmup: int = 1
    omit: int = 1
    udp: bool = False
    udp_rate: str = "500M"
    udp_size: int = 1200
    seed: int = 0
    image: str | None = None
    macvlan_parent: str | None = None
    overlay: bool = False
    quick: bool = False


@dataclass(frozen=True)
class Capabilities:
    """What this host can do, read once before planning."""

    root: bool = True
    nsenter: bool = True
    engine_local: bool = True
    tools_missing: tuple[str, ...] = ()
    gateway_ip: str | None = "172.17.0.1"
    swarm_active: bool = False
    swarm_manager: bool = False
