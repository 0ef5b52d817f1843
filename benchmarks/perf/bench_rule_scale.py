"""How rule time grows with the size of a snapshot: 1,000 vs 10,000 containers, 6,553 vs 65,535 ports.

Builds synthetic ``docker inspect`` documents in memory (no engine, no files): containers on
networks of twenty, compose projects, privileged and capability-laden members, clashing and
loopback ports, host and joined network modes, socket mounts, a shared proxy network; and one
container publishing every port, another clashing with every hundredth. Each shape is
normalized with the real normalizer, then every built-in rule runs over the small and the large
snapshot alternately, REPEATS times, and the fastest CPU time of each is kept. Printed: the
normalizer's and the rules' growth ratio t(large)/t(small) (10 for linear growth; the README
promises no worse than ~12), the rules that dominate, and the ratio of a plainly linear pass
over the same objects measured beside them (memory caches and a loaded machine make ten times
the objects cost more than ten times; compare the rules' ratio with that one), and the ratio
of function calls the rules make (cProfile), which no machine noise touches.

Usage: ``.venv/bin/python benchmarks/perf/bench_rule_scale.py [REPEATS]``.
``tests/hardening/test_rule_scaling.py`` runs the same measurement with the same documents.
"""

from __future__ import annotations

import cProfile
import pstats
import sys
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from auditor.audit.discovery import discover_rules
from auditor.collectors.raw import RawState, normalize_raw
from auditor.model.records import Snapshot, SourceKind, Target
from auditor.model.rule import Rule

TARGET = Target(SourceKind.SNAPSHOT, "scale", "scale.json")
IMAGES = ("nginx:1.27", "redis:7", "postgres:16", "example/api:2", "mongo:7", "grafana/grafana:11")


def _container(
    name: str,
    *,
    image: str,
    networks: Sequence[str],
    ports: dict,
    project: str | None = None,
    mode: str | None = None,
    privileged: bool = False,
    cap_add: Sequence[str] = (),
    cap_drop: Sequence[str] = (),
    mounts: Sequence[dict] = (),
) -> dict:
    labels = {"com.docker.compose.project": project, "com.docker.compose.service": name} if project else {}
    return {
        "Id": f"{name}-id",
        "Name": f"/{name}",
        "Config": {"Image": image, "Labels": labels},
        "State": {"Status": "created", "Running": False},
        "HostConfig": {
            "NetworkMode": mode or (networks[0] if networks else "default"),
            "PortBindings": ports,
            "Privileged": privileged,
            "CapAdd": list(cap_add) or None,
            "CapDrop": list(cap_drop) or None,
        },
        "Mounts": list(mounts),
        "NetworkSettings": {"Networks": {n: {"NetworkID": f"{n}-id"} for n in networks}},
    }


def _network(name: str, driver: str = "bridge", project: str | None = None) -> dict:
    return {
        "Name": name,
        "Id": f"{name}-id",
        "Driver": driver,
        "Scope": "local",
        "Internal": False,
        "Options": {"parent": "eth0"} if driver == "macvlan" else {},
        "Labels": {"com.docker.compose.project": project} if project else {},
    }


def containers_shape(n: int) -> RawState:
    """``n`` containers, twenty per network and every second one also on one shared network
    (so a rule that compares members pairwise shows), with something for every rule to look at."""
    networks = [
        _network(f"net{i}", "macvlan" if i % 50 == 7 else "bridge", project=f"p{i % 7}")
        for i in range(max(1, n // 20))
    ]
    networks.append(_network("proxy"))
    docs = []
    for i in range(n):
        nets = [networks[i % (len(networks) - 1)]["Name"]] + (["proxy"] if i % 2 == 0 else [])
        host_port = "80" if i % 50 == 0 else str(1024 + i % 60000)
        ip = "127.0.0.1" if i % 4 == 1 else ""
        proto = "udp" if i % 9 == 0 else "tcp"
        ports = {f"{80 + i % 3}/{proto}": [{"HostIp": ip, "HostPort": host_port}]}
        if i % 25 == 0:
            ports["6379/tcp"] = [{"HostIp": "0.0.0.0", "HostPort": "16379-16479"}]
        if i % 125 == 0:  # a wide range as the engine lists it: 120 container ports, one offset
            ports.update({f"{p}/udp": [{"HostIp": "", "HostPort": str(p)}] for p in range(30000, 30120)})
        mode = "host" if i % 97 == 0 else (f"container:c{i - 1}-id" if i % 89 == 0 and i else None)
        docs.append(
            _container(
                f"c{i}",
                image=IMAGES[i % len(IMAGES)],
                networks=nets,
                ports=ports,
                project=f"p{i % 7}" if i % 3 else None,
                mode=mode,
                privileged=i % 31 == 0,
                cap_add=("NET_ADMIN",) if i % 17 == 0 else (),
                cap_drop=("NET_RAW",) if i % 2 == 0 else (),
                mounts=[
                    {"Type": "bind", "Source": "/var/run/docker.sock", "Destination": "/var/run/docker.sock"}
                ]
                if i % 101 == 0
                else (),
            )
        )
    return RawState(TARGET, {}, {}, tuple(docs), tuple(networks), {})


def ports_shape(n: int) -> RawState:
    """One container publishing ports 1..``n``, one clashing with every hundredth, one range."""
    every = {f"{p}/tcp": [{"HostIp": "", "HostPort": str(p)}] for p in range(1, n + 1)}
    some = {f"{p}/tcp": [{"HostIp": "0.0.0.0", "HostPort": str(p)}] for p in range(1, n + 1, 100)}
    span = {"80/tcp": [{"HostIp": "::", "HostPort": f"1-{n}"}]}
    docs = (
        _container("all", image="example/api:2", networks=["app"], ports=every),
        _container("some", image="redis:7", networks=["app"], ports=some),
        _container("span", image="nginx:1.27", networks=["app"], ports=span),
    )
    return RawState(TARGET, {}, {}, docs, (_network("app"),), {})


SHAPES: dict[str, tuple[Callable[[int], RawState], int, int]] = {
    "containers": (containers_shape, 1_000, 10_000),
    "ports": (ports_shape, 6_553, 65_535),
}


def _cpu(fn: Callable[[], object]) -> float:
    started = time.process_time()
    fn()
    return time.process_time() - started


def rule_times(snapshot: Snapshot, rules: Sequence[Rule]) -> dict[str, float]:
    """CPU seconds per rule on a fresh copy of the snapshot (its indexes are part of the cost)."""
    fresh = Snapshot(snapshot.target, snapshot.daemon, snapshot.containers, snapshot.networks)
    return {r.id: _cpu(partial(_observations, r, fresh)) for r in rules}


def _observations(rule: Rule, snapshot: Snapshot) -> list[object]:
    return list(rule.check(snapshot))


def linear_pass(snapshot: Snapshot) -> int:
    """Plainly linear work over the same objects (read every container, network and port, keep
    a small tuple per port), measured beside the rules: what ten times the objects costs on this
    machine right now (memory caches and neighbours make it more than 10x)."""
    kept: list[tuple[object, ...]] = [
        (c.name, p.container_port, p.host_ip) for c in snapshot.containers for p in c.ports
    ]
    kept += [(n.name, n.driver, n.internal) for n in snapshot.networks]
    return len(kept)


def call_counts(snapshot: Snapshot, rules: Sequence[Rule]) -> dict[str, int]:
    """Function calls (Python and C) each rule makes, counted by cProfile: a measure of work
    that no neighbour's load and no cache size changes. A quadratic loop shows up as
    quadratic calls."""
    counts: dict[str, int] = {}
    for rule in rules:
        fresh = Snapshot(snapshot.target, snapshot.daemon, snapshot.containers, snapshot.networks)
        profile = cProfile.Profile()
        profile.enable()
        try:
            list(rule.check(fresh))
        finally:
            profile.disable()
        counts[rule.id] = pstats.Stats(profile).total_calls  # type: ignore[attr-defined]
    return counts


def documents(shape: str) -> dict[int, RawState]:
    """The shape's documents at its small and large size."""
    build, small, large = SHAPES[shape]
    return {small: build(small), large: build(large)}


def measure(
    shape: str, repeats: int = 3, rules: Sequence[Rule] | None = None, raws: dict[int, RawState] | None = None
) -> dict[str, Any]:
    """Normalizer and rule CPU time at the shape's small and large size, fastest of ``repeats``
    runs taken alternately, and the growth ratios."""
    _, small, large = SHAPES[shape]
    rules = tuple(rules or discover_rules())
    raws = raws or documents(shape)
    snaps = {size: normalize_raw(raw) for size, raw in raws.items()}
    best_norm = {size: float("inf") for size in raws}
    best_linear = {size: float("inf") for size in raws}
    best_rules: dict[int, dict[str, float]] = {size: {} for size in raws}
    for _ in range(repeats):
        for size in (small, large):
            best_norm[size] = min(best_norm[size], _cpu(partial(normalize_raw, raws[size])))
            best_linear[size] = min(best_linear[size], _cpu(partial(_linear_passes, snaps[size], 5)))
            for rule_id, seconds in rule_times(snaps[size], rules).items():
                best_rules[size][rule_id] = min(best_rules[size].get(rule_id, float("inf")), seconds)
    total = {size: sum(best_rules[size].values()) for size in raws}
    return {
        "shape": shape,
        "small": small,
        "large": large,
        "normalize": (best_norm[small], best_norm[large]),
        "rules": (total[small], total[large]),
        "rules_ratio": total[large] / total[small],
        "normalize_ratio": best_norm[large] / best_norm[small],
        "linear_ratio": best_linear[large] / best_linear[small],
        "per_rule": {rid: (best_rules[small][rid], best_rules[large][rid]) for rid in best_rules[large]},
    }


def _linear_passes(snapshot: Snapshot, times: int) -> list[int]:
    return [linear_pass(snapshot) for _ in range(times)]


def main(repeats: int) -> None:
    rules = discover_rules()
    for shape in SHAPES:
        raws = documents(shape)
        m = measure(shape, repeats, rules, raws)
        calls = {size: sum(call_counts(normalize_raw(raw), rules).values()) for size, raw in raws.items()}
        small, large = m["small"], m["large"]
        (ns, nl), (rs, rl) = m["normalize"], m["rules"]
        print(f"{shape}: {small:,} -> {large:,}")
        print(f"  normalize  {ns * 1000:8.1f} ms -> {nl * 1000:8.1f} ms   ratio {m['normalize_ratio']:5.1f}")
        print(
            f"  all rules  {rs * 1000:8.1f} ms -> {rl * 1000:8.1f} ms   ratio {m['rules_ratio']:5.1f}"
            f"   (t(large)/t(small); linear = {large / small:.0f})"
        )
        print(f"  a plain linear pass over the same objects, side by side: ratio {m['linear_ratio']:5.1f}")
        print(
            f"  function calls of all rules: {calls[small]:,} -> {calls[large]:,}   "
            f"ratio {calls[large] / calls[small]:5.1f}   (no machine noise)"
        )
        top = sorted(m["per_rule"].items(), key=lambda item: -item[1][1])[:5]
        for rule_id, (s, big) in top:
            ratio = f"{big / s:5.1f}" if s > 0 else "    -"
            print(f"    {rule_id}  {s * 1000:8.1f} ms -> {big * 1000:8.1f} ms   ratio {ratio}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
