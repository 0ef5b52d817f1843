"""What a Docker 20.10 host with N containers leaves behind, built in memory: the
containers and networks, and the dumps the exposure readers take (iptables-save, ip -j
addr/route, sysctls, docker-proxy processes). Shared by the exposure benchmark
(``benchmarks/perf/bench_exposure.py --synthetic``) and the memo equivalence test."""

from __future__ import annotations

import json

from auditor.model.records import Container, Endpoint, Network, PortBinding

PER_NETWORK = 20


def synthetic_host(
    n: int, per_network: int = PER_NETWORK
) -> tuple[list[Container], list[Network], dict[str, str], dict[str, str]]:
    """Containers, networks and the dumps (firewall, network) of a Docker 20.10 host with
    ``n`` running containers, ``per_network`` to a bridge: each publishes container port 80
    on host port 20000+i of every address and exposes 9100 unpublished."""
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
    for k in range((n + per_network - 1) // per_network):
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
        for j in range(min(per_network, n - k * per_network)):
            i = k * per_network + j
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
