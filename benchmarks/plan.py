"""Which modes run, which are skipped and why, and the shuffled interleaved order.

Pure: the host's capabilities come in as a ``Capabilities`` record, so planning is testable
without an engine.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from auditor.model.errors import InputError

BASELINES: tuple[str, ...] = ("host-loopback", "none-loopback")

# name -> what is measured (client -> server)
MODES: dict[str, str] = {
    "host-loopback": "host process to host process over 127.0.0.1, no container (baseline)",
    "none-loopback": "inside one --network none container, over its own loopback (baseline)",
    "host": "host client to a server in a --network host container, over 127.0.0.1",
    "bridge": "container to container on the default bridge (docker0)",
    "user-bridge": "container to container on a user-defined bridge network",
    "host-to-container": "host client to a container's address on the default bridge",
    "published-nat": "host client to a published port via a non-loopback host address (kernel DNAT)",
    "published-proxy": "host client to a published port via 127.0.0.1 (userland proxy where enabled)",
    "container-ns": "two containers sharing one network namespace (--network container:X), loopback",
    "macvlan": "container to container on a macvlan network (needs --macvlan-parent)",
    "overlay": "container to container on an attachable overlay network (needs --overlay and a swarm)",
}

# A mode and a close relative it is compared with, paired by repetition (besides the baselines).
COMPARISONS: tuple[tuple[str, str], ...] = (
    ("published-proxy", "published-nat"),
    ("published-nat", "host-to-container"),
    ("bridge", "host"),
    ("bridge", "user-bridge"),
    ("host-to-container", "host"),
    ("container-ns", "none-loopback"),
)


@dataclass(frozen=True)
class Options:
    """What the user asked for (already validated by ``options``)."""

    modes: tuple[str, ...] = tuple(MODES)
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


QUICK = {"duration": 1.0, "repeat": 3, "warmup": 1, "omit": 1}


def options(
    modes: str | None = None,
    duration: float | None = None,
    repeat: int | None = None,
    quick: bool = False,
    **rest,
) -> Options:
    """Validate the command-line values; ``--quick`` fills what was not given explicitly."""
    chosen = parse_modes(modes) if modes else tuple(MODES)
    base = QUICK if quick else {}
    duration = duration if duration is not None else base.get("duration", 5.0)
    repeat = repeat if repeat is not None else base.get("repeat", 5)
    if quick:
        rest.setdefault("omit", QUICK["omit"])
    if duration <= 0 or duration > 600:
        raise InputError(f"--duration must be between 0 and 600 seconds, not {duration}")
    if repeat < 1 or repeat > 100:
        raise InputError(f"--repeat must be between 1 and 100, not {repeat}")
    if rest.get("warmup", 1) < 0:
        raise InputError("--warmup cannot be negative")
    return Options(
        modes=chosen,
        duration=float(duration),
        repeat=int(repeat),
        quick=quick,
        **{k: v for k, v in rest.items() if v is not None},
    )


def parse_modes(text: str) -> tuple[str, ...]:
    """``a,b,c`` -> known mode names in the canonical order; unknown names are an input error."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in MODES]
    if unknown:
        raise InputError(f"unknown mode(s) {', '.join(unknown)} (known: {', '.join(MODES)})")
    if not names:
        raise InputError("--modes is empty")
    return tuple(m for m in MODES if m in names)


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


@dataclass(frozen=True)
class PlannedMode:
    name: str
    description: str
    skipped_reason: str | None = None

    @property
    def runnable(self) -> bool:
        return self.skipped_reason is None


CONTAINER_MODES = frozenset(MODES) - {"host-loopback"}


def skip_reason(mode: str, opts: Options, caps: Capabilities) -> str | None:
    """Why ``mode`` cannot run on this host, or None."""
    if caps.tools_missing:
        return f"missing on this host: {', '.join(caps.tools_missing)}"
    if mode in CONTAINER_MODES:
        if not caps.engine_local:
            return "the engine is not on this machine (bench needs the local engine's network namespaces)"
        if not caps.root or not caps.nsenter:
            return "needs root and nsenter to run the client in a container's network namespace"
    if mode == "published-nat" and not caps.gateway_ip:
        return "the default bridge has no IPv4 gateway address to publish on"
    if mode == "macvlan" and not opts.macvlan_parent:
        return (
            "not run without --macvlan-parent IFACE: a macvlan network puts container MAC "
            "addresses on that interface's segment"
        )
    if mode == "overlay":
        if not opts.overlay:
            return "not run without --overlay: it creates a swarm-scoped network"
        if not caps.swarm_active:
            return "the engine is not part of a swarm (auditor never initialises one)"
        if not caps.swarm_manager:
            return "this engine is a swarm worker; overlay networks are created on a manager"
    return None


def plan(opts: Options, caps: Capabilities) -> list[PlannedMode]:
    """Every requested mode in canonical order, with a reason where it is skipped.

    Baselines are always measured (even when not requested) because every ratio needs them.
    """
    wanted = set(opts.modes) | set(BASELINES)
    return [PlannedMode(name, MODES[name], skip_reason(name, opts, caps)) for name in MODES if name in wanted]


@dataclass(frozen=True)
class Step:
    """One measurement slot: round ``round`` (negative for warm-up) of one mode."""

    round: int
    mode: str

    @property
    def warmup(self) -> bool:
        return self.round < 0

    def expected_seconds(self, opts: Options) -> float:
        """Rough wall time of this step, for the progress display's time left."""
        if self.warmup:
            return min(1.0, opts.duration) + 1.4 + 1.0
        per_tool_overhead = 0.5
        seconds = 2 * (opts.duration + opts.omit) + (max(1, round(opts.duration)) + 0.4) + opts.duration
        if opts.udp:
            seconds += opts.duration
        return seconds + 4 * per_tool_overhead


def schedule(modes: list[str], repeat: int, warmup: int, seed: int) -> list[Step]:
    """Warm-up rounds, then ``repeat`` rounds; inside each round the modes are shuffled.

    Interleaving spreads slow drifts of the machine (other load, thermal) across all modes
    instead of biasing whichever mode happens to run last.
    """
    rng = random.Random(seed)  # noqa: S311 - a reproducible shuffle, not a secret
    steps: list[Step] = []
    for r in range(-warmup, repeat):
        order = list(modes)
        rng.shuffle(order)
        steps.extend(Step(r, m) for m in order)
    return steps
