"""Whole connection attempts remembered by what they read of their target.

An attempt from one zone is decided by the zone (fixed: its interface, source, protocol) and
by the target: the destination address and port it is sent to, and the goal (which
container addresses and port count as arriving). While an attempt is computed, every read
of a value is *observed* as ``(kind, value)``: the class a hook's rules put an address or a
port in, its route, whether it is a host address, a question to the goal ("is this the
container's bridge?"). ``bind`` keeps the observations of the attempt's own destination and
port (by value: anything else the path read was chosen by what it read before, or is the
zone's) and every goal question, with its argument bound the same way. The attempt's result
is then valid for every target that answers these the same: containers behind the same
rules share it, which is most of a host's matrix.

Observation forms: ``("addr", kind, (family, address))``, ``("port", kind, port)``,
``("goal", question, argument)`` and ``("tag", tag)`` for a tag bound by the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from auditor.exposure.signatures import SignatureTables

Observation = tuple[Any, ...]
AttemptTag = tuple[Any, ...]
Getter = Callable[[int, int, int, Any], Any]  # (family, destination, port, goal) -> value


def bind(observations: Iterable[Observation], family: int, dst: int, dport: int) -> frozenset[AttemptTag]:
    """The tags of an attempt to ``dst:dport`` from what its computation observed."""
    own = (family, dst)
    out: set[AttemptTag] = set()
    for obs in observations:
        category = obs[0]
        if category == "addr":
            if obs[2] == own:
                out.add(("dst", obs[1]))
        elif category == "port":
            if obs[2] == dport:
                out.add(("dport", obs[1]))
        elif category == "goal":
            arg = obs[2]
            if arg is None:
                bound: Any = None
            elif isinstance(arg, tuple):
                bound = "dst" if arg == own else ("addr", arg)
            else:
                bound = "dport" if arg == dport else ("port", arg)
            out.add(("goal", obs[1], bound))
        else:
            out.add(obs[1])
    return frozenset(out)


class AttemptMemo(SignatureTables):
    """Results of the attempts of one zone (one family, protocol, way in), by tags.

    Within a zone there are few signatures (ways an attempt can go) when targets share
    rules, and one per target when rules single targets out (a DNAT per published port):
    there a memo only costs. So a memo that has not answered ``TRIAL`` attempts in a row
    gives up (``enabled`` turns false) and the zone's attempts are computed directly;
    lookups try at most ``MAX_SIGNATURES``, the most useful first. Results never depend
    on any of this. ``key_function(tags)`` gives a signature's key of (family, destination,
    port, goal); the memos of every zone share it (``AttemptKeys``).
    """

    MAX_SIGNATURES = 8
    TRIAL = 12
    EVICT = True

    def __init__(self, key_function: Callable[[frozenset[AttemptTag]], Callable[..., tuple]]) -> None:
        super().__init__()
        self._key_function = key_function

    def put(
        self, tags: frozenset[AttemptTag], family: int, dst: int, dport: int, goal: Any, value: Any
    ) -> None:
        self.store(tags, self._key_function, value, family, dst, dport, goal)


class AttemptKeys:
    """The key function of each signature, shared by the memos of every zone: a target's
    key under a signature is the same from every zone (the tags read the target and the
    host, never the zone), so it is computed once per target and signature and then looked
    up (a target is tried from every zone in turn)."""

    def __init__(self, getter: Callable[[AttemptTag], Getter]) -> None:
        self._getter = getter
        self._functions: dict[frozenset[AttemptTag], Callable[[int, int, int, Any], tuple]] = {}

    def __call__(self, tags: frozenset[AttemptTag]) -> Callable[[int, int, int, Any], tuple]:
        found = self._functions.get(tags)
        if found is None:
            found = self._functions[tags] = self._make(tags)
        return found

    def _make(self, tags: frozenset[AttemptTag]) -> Callable[[int, int, int, Any], tuple]:
        getters = [self._getter(tag) for tag in sorted(tags, key=repr)]
        keys: dict[tuple[int, int, int, Any], tuple] = {}

        def key(family: int, dst: int, dport: int, goal: Any) -> tuple:
            args = (family, dst, dport, goal)
            found = keys.get(args)
            if found is None:
                found = keys[args] = tuple([g(family, dst, dport, goal) for g in getters])
            return found

        return key
