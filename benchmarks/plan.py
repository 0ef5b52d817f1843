"""Which modes run, which are skipped and why, and the shuffled interleaved order.

Pure: the host's capabilities come in as a ``Capabilities`` record and the modes as ``Mode``
records (``modes.MODES`` unless the caller gives others), so planning is testable without an engine.
"""

from __future__ import annotations

import os
import random
from collections.abc import Sequence
from dataclasses import dataclass

from auditor.model.errors import InputError

from .modes import MODES, Mode, baselines, names
from .settings import Capabilities, Options

QUICK = {"duration": 1.0, "repeat": 3, "warmup": 1, "omit": 1}


def options(
    modes: str | None = None,
    duration: float | None = None,
    repeat: int | None = None,
    quick: bool = False,
    warmup: int = 1,
    omit: int | None = None,
    udp: bool = False,
    udp_rate: str = "500M",
    udp_size: int = 1200,
    seed: int | None = None,
    image: str | None = None,
    macvlan_parent: str | None = None,
    overlay: bool = False,
    registry: Sequence[Mode] = MODES,
) -> Options:
    """Validate the command-line values; ``--quick`` fills what was not given explicitly.

    Without a seed a random one is drawn (it is recorded in the result, so a run can be repeated).
    """
    chosen = parse_modes(modes, registry) if modes else names(registry)
    duration = duration if duration is not None else (QUICK["duration"] if quick else 5.0)
    repeat = repeat if repeat is not None else (int(QUICK["repeat"]) if quick else 5)
    if duration <= 0 or duration > 600:
        raise InputError(f"--duration must be between 0 and 600 seconds, not {duration}")
    if repeat < 1 or repeat > 100:
        raise InputError(f"--repeat must be between 1 and 100, not {repeat}")
    if warmup < 0:
        raise InputError("--warmup cannot be negative")
    return Options(
        modes=chosen,
        duration=float(duration),
        repeat=int(repeat),
        warmup=warmup,
        omit=omit if omit is not None else int(QUICK["omit"]) if quick else 1,
        udp=udp,
        udp_rate=udp_rate,
        udp_size=udp_size,
        seed=seed if seed is not None else int.from_bytes(os.urandom(4), "big"),
        image=image,
        macvlan_parent=macvlan_parent,
        overlay=overlay,
        quick=quick,
    )


def parse_modes(text: str, registry: Sequence[Mode] = MODES) -> tuple[str, ...]:
    """``a,b,c`` -> known mode names in the canonical order; unknown names are an input error."""
    known = names(registry)
    wanted = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise InputError(f"unknown mode(s) {', '.join(unknown)} (known: {', '.join(known)})")
    if not wanted:
        raise InputError("--modes is empty")
    return tuple(m for m in known if m in wanted)


@dataclass(frozen=True)
class PlannedMode:
    """A mode of this run, with the reason it is skipped (None: it runs)."""

    mode: Mode
    skipped_reason: str | None = None

    @property
    def name(self) -> str:
        return self.mode.name

    @property
    def description(self) -> str:
        return self.mode.description

    @property
    def runnable(self) -> bool:
        return self.skipped_reason is None


def plan(opts: Options, caps: Capabilities, registry: Sequence[Mode] = MODES) -> list[PlannedMode]:
    """Every requested mode in canonical order, with a reason where it is skipped.

    Baselines are always measured (even when not requested) because every ratio needs them.
    """
    wanted = set(opts.modes) | set(baselines(registry))
    return [PlannedMode(m, m.skip_reason(opts, caps)) for m in registry if m.name in wanted]


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
