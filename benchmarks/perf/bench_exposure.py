"""Cost of the exposure analysis beside a live scan of the same host, measured side by side.

Live mode (the default; needs root, as the engine lab does): starts one lab engine in its own
network namespace (``tests/support/lab``), creates N running containers on N/20 bridge
networks there (each publishes one port and exposes one more), reads the host's dumps inside
that namespace with the exposure readers, then alternates a live scan of the engine (the scan
pipeline, in process, wall time) with the analysis of the same facts (parsing the dumps and
``analyze_exposure`` over every container port from every zone, CPU time of this process and
wall time). Prints medians and analysis / scan. The lab removes everything it made, also on
Ctrl-C.

``--synthetic``: no engine; builds in memory what a Docker 20.10 host with N containers looks
like (the iptables-save, ip -j addr/route, sysctl and docker-proxy dumps Docker would leave)
and times parsing, analysis and the built-in rules on the same snapshot (for profiling).

Usage: ``.venv/bin/python benchmarks/perf/bench_exposure.py [--synthetic] [--repeats R] [N ...]``
(default N = 200, R = 5).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from auditor.audit.discovery import discover_rules
from auditor.audit.pipeline import scan
from auditor.audit.run import run_rules
from auditor.collectors.endpoints import EngineSpec
from auditor.collectors.request import ScanRequest
from auditor.exposure.analysis import analyze_exposure
from auditor.exposure.facts import facts_from_json, firewall_facts, host_network
from auditor.model.records import (
    Container,
    DaemonFacts,
    Endpoint,
    Network,
    PortBinding,
    Snapshot,
    SourceKind,
    Target,
)

REPEATS = 5
PER_NETWORK = 20


def synthetic_host(n: int) -> tuple[list[Container], list[Network], dict[str, str], dict[str, str]]:
    """Containers, networks and the dumps (firewall, network) of a host with ``n`` containers."""
    networks = []
    containers = []
    fwd, docker, iso1, iso2 = [], [], [], []
    nat_post: list[str] = []
    nat_docker: list[str] = []
    addrs = [
        {
            "ifindex": 1,
            "ifname": "lo",
            "flags": ["LOOPBACK", "UP"],
            "link_type": "loopback",
            "addr_info": [{"family": "inet", "local": "127.0.0.1", "prefixlen": 8, "scope": "host"}],
        },
        {
            "ifindex": 2,
            "ifname": "eth0",
            "flags": ["UP"],
            "link_type": "ether",
            "addr_info": [{"family": "inet", "local": "198.18.0.1", "prefixlen": 24, "scope": "global"}],
        },
    ]
    routes = [
        {"dst": "default", "gateway": "198.18.0.2", "dev": "eth0"},
        {"dst": "198.18.0.0/24", "dev": "eth0", "prefsrc": "198.18.0.1"},
    ]
    proxies = []
    for k in range((n + PER_NETWORK - 1) // PER_NETWORK):
        net_id = f"{k:012x}" + "0" * 52
        bridge = f"br-{net_id[:12]}"
        third = 64 + k
        networks.append(Network(name=f"net{k}", id=net_id, driver="bridge"))
        addrs.append(
            {
                "ifindex": 10 + k,
                "ifname": bridge,
                "flags": ["UP"],
                "link_type": "ether",
                "addr_info": [
                    {
                        "family": "inet",
                        "local": f"198.18.{third}.1",
                        "prefixlen": 24,
                        "scope": "global",
                        "broadcast": f"198.18.{third}.255",
                    }
                ],
            }
        )
        routes.append({"dst": f"198.18.{third}.0/24", "dev": bridge, "prefsrc": f"198.18.{third}.1"})
        fwd += [
            f"-A FORWARD -o {bridge} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
            f"-A FORWARD -o {bridge} -j DOCKER",
            f"-A FORWARD -i {bridge} ! -o {bridge} -j ACCEPT",
            f"-A FORWARD -i {bridge} -o {bridge} -j ACCEPT",
        ]
        iso1.append(f"-A DOCKER-ISOLATION-STAGE-1 -i {bridge} ! -o {bridge} -j DOCKER-ISOLATION-STAGE-2")
        iso2.append(f"-A DOCKER-ISOLATION-STAGE-2 -o {bridge} -j DROP")
        nat_post.append(f"-A POSTROUTING -s 198.18.{third}.0/24 ! -o {bridge} -j MASQUERADE")
        nat_docker.insert(0, f"-A DOCKER -i {bridge} -j RETURN")
        for j in range(min(PER_NETWORK, n - k * PER_NETWORK)):
            i = k * PER_NETWORK + j
            cip = f"198.18.{third}.{j + 2}"
            host_port = 20000 + i
            containers.append(
                Container(
                    name=f"c{i:04d}",
                    id=f"{i:064x}",
                    state="running",
                    network_mode=f"net{k}",
                    endpoints=(Endpoint(network=f"net{k}", network_id=net_id, ipv4_address=cip),),
                    ports=(
                        PortBinding(80, "tcp", "0.0.0.0", host_port),
                        PortBinding(9100, "tcp", published=False),
                    ),
                )
            )
            docker.append(
                f"-A DOCKER -d {cip}/32 ! -i {bridge} -o {bridge} -p tcp -m tcp --dport 80 -j ACCEPT"
            )
            nat_post.append(f"-A POSTROUTING -s {cip}/32 -d {cip}/32 -p tcp -m tcp --dport 80 -j MASQUERADE")
            nat_docker.append(
                f"-A DOCKER ! -i {bridge} -p tcp -m tcp --dport {host_port} -j DNAT --to-destination {cip}:80"
            )
            proxies.append(
                f"/usr/sbin/docker-proxy -proto tcp -host-ip 0.0.0.0 -host-port {host_port} -container-ip {cip} -container-port 80"
            )
    filter_table = "\n".join(
        [
            "*filter",
            ":INPUT ACCEPT [0:0]",
            ":FORWARD DROP [0:0]",
            ":OUTPUT ACCEPT [0:0]",
            ":DOCKER - [0:0]",
            ":DOCKER-ISOLATION-STAGE-1 - [0:0]",
            ":DOCKER-ISOLATION-STAGE-2 - [0:0]",
            ":DOCKER-USER - [0:0]",
            "-A FORWARD -j DOCKER-USER",
            "-A FORWARD -j DOCKER-ISOLATION-STAGE-1",
            *fwd,
            *docker,
            *iso1,
            "-A DOCKER-ISOLATION-STAGE-1 -j RETURN",
            *iso2,
            "-A DOCKER-ISOLATION-STAGE-2 -j RETURN",
            "-A DOCKER-USER -j RETURN",
            "COMMIT",
        ]
    )
    nat_table = "\n".join(
        [
            "*nat",
            ":PREROUTING ACCEPT [0:0]",
            ":INPUT ACCEPT [0:0]",
            ":OUTPUT ACCEPT [0:0]",
            ":POSTROUTING ACCEPT [0:0]",
            ":DOCKER - [0:0]",
            "-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER",
            "-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER",
            *nat_post,
            *nat_docker,
            "COMMIT",
        ]
    )
    firewall = {
        "iptables_save": "# Generated by iptables-save v1.8.9 (nf_tables) on Tue Dec  1 09:00:00 2026\n"
        + filter_table
        + "\n"
        + nat_table
        + "\n",
        "ip6tables_save": "",
        "nft_json": json.dumps(
            {
                "nftables": [
                    {"metainfo": {"json_schema_version": 1}},
                    {"table": {"family": "ip", "name": "filter"}},
                    {"table": {"family": "ip", "name": "nat"}},
                ]
            }
        ),
    }
    sysctl = "net.ipv4.ip_forward = 1\nnet.ipv6.conf.all.forwarding = 0\nnet.bridge.bridge-nf-call-iptables = 1\nnet.bridge.bridge-nf-call-ip6tables = 1\nnet.ipv4.conf.all.route_localnet = 0\n"
    network = {
        "ip_addr": json.dumps(addrs),
        "ip_route": json.dumps(routes),
        "ip6_route": "[]",
        "sysctl": sysctl,
        "docker_proxy": "\n".join(proxies) + "\n",
    }
    return containers, networks, firewall, network


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def synthetic(sizes: list[int], repeats: int) -> None:
    """Parsing and analysis of a synthetic host beside the built-in rules (no engine)."""
    rules = discover_rules(include_plugins=False)
    print(f"{'N':>5} {'cells':>6} {'parse ms':>9} {'analysis ms':>12} {'rules ms':>9} {'analysis/rules':>15}")
    for n in sizes:
        containers, networks, fw_dumps, net_dumps = synthetic_host(n)
        snapshot = Snapshot(
            Target(SourceKind.SNAPSHOT, "synthetic", "synthetic"),
            DaemonFacts(),
            tuple(containers),
            tuple(networks),
        )
        parse, analysis, rule_times = [], [], []
        cells = 0
        for _ in range(repeats):  # interleaved so machine noise hits all three alike
            start = time.process_time()
            firewall = firewall_facts(**fw_dumps)
            network = host_network(**net_dumps)
            parse.append(time.process_time() - start)
            start = time.process_time()
            matrix = analyze_exposure(containers, networks, firewall, network)
            analysis.append(time.process_time() - start)
            cells = len(matrix.cells)
            start = time.process_time()
            run_rules(snapshot, rules)
            rule_times.append(time.process_time() - start)
        p, a, r = median_ms(parse), median_ms(analysis), median_ms(rule_times)
        print(f"{n:>5} {cells:>6} {p:>9.1f} {a:>12.1f} {r:>9.1f} {(p + a) / r:>15.2f}")


READ_DUMPS = (
    "import json, sys\n"
    "from auditor.exposure.facts import facts_to_json, read_firewall, read_host_network\n"
    "json.dump(facts_to_json(read_firewall(), read_host_network()), sys.stdout)\n"
)


def _fill(lab, n: int) -> None:
    """``n`` running containers on n/20 labelled networks of the lab engine ``bench``."""
    engine = lab.engines["bench"]
    api = engine.client.api
    nets = [f"bnet{k}" for k in range((n + PER_NETWORK - 1) // PER_NETWORK)]
    if len(nets) > 15:
        raise SystemExit("at most 300 containers: the lab engine's /20 holds 15 more /24 networks")
    block = engine.plan.bridge_cidr.supernet(new_prefix=20)
    subnets = list(block.subnets(new_prefix=24))[1:]  # the first is docker0's
    for name, subnet in zip(nets, subnets, strict=False):
        ipam = {"Driver": "default", "Config": [{"Subnet": str(subnet)}]}
        api.create_network(name, driver="bridge", ipam=ipam, labels={"io.auditor.test": "1"})

    def one(i: int) -> None:
        host_config = api.create_host_config(
            port_bindings={80: 20000 + i}, network_mode=nets[i // PER_NETWORK]
        )
        created = api.create_container(
            lab.image,
            ["sleep", "86400"],
            name=f"bench{i:04d}",
            ports=[80, 9100],
            host_config=host_config,
            labels={"io.auditor.test": "1"},
        )
        api.start(created["Id"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(one, range(n)))


def live(sizes: list[int], repeats: int) -> None:
    """A live scan of a lab engine holding N containers beside the analysis of its facts."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
    from support.exposure_lab import model_records
    from support.lab import EngineConfig, Lab

    rules = discover_rules(include_plugins=False)
    rows: list[tuple[int, int, int, float, float, float, float, float]] = []
    for n in sizes:
        with Lab([EngineConfig("bench")]) as lab:
            _fill(lab, n)
            dumps = lab.run("bench", [sys.executable, "-c", READ_DUMPS], timeout=120).stdout
            containers, networks = model_records(lab, "bench")
            url = lab.engines["bench"].url
            request = ScanRequest(engines=(EngineSpec(url=url),))
            command = [sys.executable, "-m", "auditor", "scan", "--engine", url, "-f", "none"]
            command += ["--fail-on", "none"]
            scans, scan_cpu, cli, cpu, wall = [], [], [], [], []
            cells, seen = 0, 0
            for _ in range(repeats):  # interleaved so machine noise hits all three alike
                start, start_cpu = time.perf_counter(), time.process_time()
                result = scan(request, rules, None)
                scans.append(time.perf_counter() - start)
                scan_cpu.append(time.process_time() - start_cpu)
                seen = sum(len(s.containers) for s in result.snapshots)
                start = time.perf_counter()
                subprocess.run(command, check=False, stdout=subprocess.DEVNULL)
                cli.append(time.perf_counter() - start)
                start, start_cpu = time.perf_counter(), time.process_time()
                firewall, network = facts_from_json(json.loads(dumps))
                assert firewall is not None and network is not None
                matrix = analyze_exposure(containers, networks, firewall, network)
                cpu.append(time.process_time() - start_cpu)
                wall.append(time.perf_counter() - start)
                cells = len(matrix.cells)
            s, s_cpu, c, a, a_cpu = (median_ms(x) for x in (scans, scan_cpu, cli, wall, cpu))
            rows.append((n, seen, cells, s, s_cpu, c, a, a_cpu))
    print(
        f"{'N':>5} {'scanned':>8} {'cells':>6} {'scan ms':>8} {'(cpu)':>6} {'CLI ms':>7} "
        f"{'analysis ms':>12} {'(cpu)':>6} {'/scan':>6} {'cpu/cpu':>8} {'/CLI':>6}"
    )
    for n, seen, cells, s, s_cpu, c, a, a_cpu in rows:
        print(
            f"{n:>5} {seen:>8} {cells:>6} {s:>8.0f} {s_cpu:>6.0f} {c:>7.0f} {a:>12.1f} {a_cpu:>6.1f} "
            f"{100 * a / s:>5.1f}% {100 * a_cpu / s_cpu:>7.1f}% {100 * a / c:>5.1f}%"
        )
    print(
        "(median of each over interleaved runs: scan = the scan pipeline in this process, wall and CPU;"
        " CLI = a whole `auditor scan -f none` process; analysis = parsing the dumps and analyze_exposure)"
    )


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", action="store_true")
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("sizes", nargs="*", type=int, default=[200])
    args = parser.parse_args(argv)
    (synthetic if args.synthetic else live)(args.sizes, max(3, args.repeats))


if __name__ == "__main__":
    main(sys.argv[1:])
