"""The lab's pure parts, without root: the plan, daemon.json, probes on loopback, the
machine-state comparison and the owner checks of the reaper."""

from __future__ import annotations

import errno
import ipaddress
import json
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from support.lab import EngineConfig, LabError, Outcome, Target, TcpApi
from support.lab.machine import MachineState, differences, is_engine_churn
from support.lab.plan import TlsPaths, daemon_json, inside_lab_space, make_plan, owner_of
from support.lab.probe import classify_errno, probe_all
from support.lab.reaper import Owner, destroy, owner_from_state, stale_labs, write_state

BASE = Path("/var/lib/auditor-lab")


def plan(engines=None, outside=("laptop",), lan="198.18.0.0/24"):
    return make_plan(list(engines or [EngineConfig("e1")]), list(outside), lan, BASE, 4242, "ab12")


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# --- plan ----------------------------------------------------------------------------------


def test_plan_lays_out_names_addresses_and_directories():
    p = plan([EngineConfig("e1", macvlan_parent=True), EngineConfig("e2")], ["laptop", "attacker"])
    assert p.lab_id == "4242-ab12"
    assert p.namespaces == (
        "audlab-4242-ab12-lan",
        "audlab-4242-ab12-e1",
        "audlab-4242-ab12-e2",
        "audlab-4242-ab12-laptop",
        "audlab-4242-ab12-attacker",
    )
    e1, e2 = p.engines
    assert (str(e1.lan_ip), str(e2.lan_ip)) == ("198.18.0.11", "198.18.0.12")
    assert (str(e1.lan_ip6), str(p.hosts[1].lan_ip6)) == ("2001:2:0:ff::b", "2001:2:0:ff::66")
    assert [str(h.lan_ip) for h in p.hosts] == ["198.18.0.101", "198.18.0.102"]
    assert (str(e1.bridge_cidr), str(e1.address_pool), str(e1.ipv6_cidr)) == (
        "198.19.16.0/24",
        "198.19.24.0/21",
        "2001:2:0:1::/64",
    )
    assert (str(e2.bridge_cidr), str(e2.macvlan_range)) == ("198.19.32.0/24", "198.18.0.144/28")
    assert (e1.lan_port, e1.macvlan_port, e2.macvlan_port) == ("e1", "e1-mv", None)
    assert e1.socket == BASE / "4242-ab12/e1/docker.sock"
    assert e1.cgroup_parent == "/audlab-4242-ab12-e1"
    assert str(p.gateway) == "198.18.0.1"


def test_every_planned_address_is_the_labs_own():
    p = plan([EngineConfig(f"e{i}") for i in range(1, 9)], [f"h{i}" for i in range(1, 28)])
    nets = [n for e in p.engines for n in (e.bridge_cidr, e.address_pool, e.ipv6_cidr, e.macvlan_range)]
    addresses = [a for e in p.engines for a in (e.lan_ip, e.lan_ip6)] + [
        a for h in p.hosts for a in (h.lan_ip, h.lan_ip6)
    ]
    assert all(
        inside_lab_space(str(n.network_address)) and inside_lab_space(str(n.broadcast_address)) for n in nets
    )
    assert all(inside_lab_space(str(a)) for a in addresses)
    v4 = [n for n in nets if n.version == 4 and n not in {e.macvlan_range for e in p.engines}]
    assert not any(a.overlaps(b) for i, a in enumerate(v4) for b in v4[i + 1 :])
    macvlans = [e.macvlan_range for e in p.engines]
    assert len({str(m) for m in macvlans}) == 8 and all(m.subnet_of(p.lan) for m in macvlans)
    assert not any(ipaddress.ip_address(a) in m for m in macvlans for a in addresses if ":" not in str(a))


@pytest.mark.parametrize(
    ("engines", "outside", "lan", "message"),
    [
        ([EngineConfig("E1")], [], "198.18.0.0/24", "lab name 'E1'"),
        ([EngineConfig("lan")], [], "198.18.0.0/24", "lab name 'lan'"),
        ([EngineConfig("e1")], ["e1"], "198.18.0.0/24", "unique"),
        ([], [], "198.18.0.0/24", "1-8 engines"),
        ([EngineConfig(f"e{i}") for i in range(9)], [], "198.18.0.0/24", "1-8 engines"),
        ([EngineConfig("e1")], [], "192.168.1.0/24", "inside 198.18.0.0/17"),
        ([EngineConfig("e1")], [], "198.18.0.0/16", "inside 198.18.0.0/17"),
        ([EngineConfig("e1")], [], "not-a-net", "the lab LAN 'not-a-net'"),
        ([EngineConfig("e1", daemon={"data-root": "/x"})], [], "198.18.0.0/24", "sets ['data-root'] itself"),
        ([EngineConfig("e1", daemon={"hosts": ["tcp://0.0.0.0:1"]})], [], "198.18.0.0/24", "sets ['hosts']"),
    ],
)
def test_plan_rejects(engines, outside, lan, message):
    with pytest.raises(LabError, match=message.replace("[", r"\[").replace("]", r"\]")):
        make_plan(engines, outside, lan, BASE, 4242, "ab12")


def test_daemon_json_isolates_then_applies_the_tests_settings():
    p = plan([EngineConfig("e1", daemon={"icc": False, "labels": ["team=a"]}, tcp=TcpApi())])
    doc = daemon_json(p, p.engines[0], None)
    assert doc == {
        "hosts": ["unix:///var/lib/auditor-lab/4242-ab12/e1/docker.sock", "tcp://198.18.0.11:2375"],
        "bip": "198.19.16.1/24",
        "default-address-pools": [{"base": "198.19.24.0/21", "size": 24}],
        "cgroup-parent": "/audlab-4242-ab12-e1",
        "deprecated-key-path": "/var/lib/auditor-lab/4242-ab12/e1/key.json",
        "shutdown-timeout": 2,
        "tls": False,
        "icc": False,
        "labels": ["io.auditor.lab=4242-ab12", "io.auditor.lab.engine=e1", "team=a"],
    }


def test_daemon_json_tls_and_ipv6():
    tls = TlsPaths(Path("/t/ca.pem"), Path("/t/e1-cert.pem"), Path("/t/e1-key.pem"), Path("/t/client"))
    p = plan([EngineConfig("e1", daemon={"ipv6": True}, tcp=TcpApi(port=2376, tls=True, bind="0.0.0.0"))])
    doc = daemon_json(p, p.engines[0], tls)
    assert doc["hosts"][1] == "tcp://0.0.0.0:2376"
    assert {k: doc[k] for k in ("tls", "tlsverify", "tlscacert", "tlscert", "tlskey")} == {
        "tls": True,
        "tlsverify": True,
        "tlscacert": "/t/ca.pem",
        "tlscert": "/t/e1-cert.pem",
        "tlskey": "/t/e1-key.pem",
    }
    assert doc["fixed-cidr-v6"] == "2001:2:0:1::/64"
    with pytest.raises(LabError, match="wants TLS"):
        daemon_json(p, p.engines[0], None)
    own = plan([EngineConfig("e1", daemon={"ipv6": True, "fixed-cidr-v6": "2001:2:0:77::/64"})])
    assert daemon_json(own, own.engines[0], None)["fixed-cidr-v6"] == "2001:2:0:77::/64"


def test_owner_of_names():
    assert owner_of("audlab-1234-ab12-e1") == 1234
    assert owner_of("1234-ab12") == 1234
    assert owner_of("audlab-1234-e1") is None
    assert owner_of("audexp-1234-ab12") is None


def test_inside_lab_space():
    assert [inside_lab_space(a) for a in ("198.18.0.1", "198.19.255.255", "2001:2::1")] == [True, True, True]
    assert [inside_lab_space(a) for a in ("198.20.0.1", "172.17.0.1", "2001:db8::1")] == [False, False, False]


# --- probes on loopback ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        (0, Outcome.OPEN),
        (errno.ECONNREFUSED, Outcome.REFUSED),
        (errno.ETIMEDOUT, Outcome.FILTERED),
        (errno.EHOSTUNREACH, Outcome.UNREACHABLE),
        (errno.ENETUNREACH, Outcome.UNREACHABLE),
        (errno.EPERM, Outcome.UNREACHABLE),
    ],
)
def test_classify_errno(code, outcome):
    assert classify_errno(code) is outcome


def test_classify_errno_refuses_to_guess():
    with pytest.raises(OSError, match="EBADF"):
        classify_errno(errno.EBADF)


def test_target_proto_is_checked():
    with pytest.raises(ValueError, match="tcp or udp"):
        Target("198.18.0.1", 80, "sctp")


def closed_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_tcp_probe_open_with_banner_and_refused():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def greet() -> None:
        conn, _ = server.accept()
        conn.sendall(b"hi\n")
        conn.close()

    thread = threading.Thread(target=greet, daemon=True)
    thread.start()
    port = server.getsockname()[1]
    results = probe_all(
        [Target("127.0.0.1", port), Target("127.0.0.1", closed_port(socket.SOCK_STREAM))], banner=True
    )
    thread.join(5)
    server.close()
    assert [(r.outcome, r.detail, r.banner) for r in results] == [
        (Outcome.OPEN, "connected", b"hi\n"),
        (Outcome.REFUSED, "ECONNREFUSED", None),
    ]


def test_udp_probe_reply_and_refused():
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))

    def echo() -> None:
        data, peer = server.recvfrom(100)
        server.sendto(b"re:" + data, peer)

    thread = threading.Thread(target=echo, daemon=True)
    thread.start()
    targets = [
        Target("127.0.0.1", server.getsockname()[1], "udp"),
        Target("127.0.0.1", closed_port(socket.SOCK_DGRAM), "udp"),
    ]
    results = probe_all(targets)
    thread.join(5)
    server.close()
    assert [(r.outcome, r.banner) for r in results] == [
        (Outcome.OPEN, b"re:audlab-probe\n"),
        (Outcome.REFUSED, None),
    ]


# --- machine state -------------------------------------------------------------------------


def state(**fields) -> MachineState:
    base = {k: () for k in ("netns", "links", "processes", "iptables", "mounts", "cgroups")}
    return MachineState(**{**base, **fields})


def test_engine_churn_is_recognised_by_interface_or_subnet():
    subnets = ["172.17.0.0/16", "192.168.32.0/20"]
    assert is_engine_churn("iptables: -A FORWARD -o br-3d2f16103e07 -j DOCKER", subnets)
    assert is_engine_churn(
        "iptables: -A POSTROUTING -s 192.168.32.2/32 -d 192.168.32.2/32 -j MASQUERADE", subnets
    )
    assert not is_engine_churn("iptables: -A INPUT -s 198.19.16.2/32 -j ACCEPT", subnets)
    assert not is_engine_churn("iptables: -A INPUT -i eth0 -j DROP", subnets)


def test_differences_are_exact_except_for_engine_churn():
    before = state(
        links=("eth0", "lo", "vethc3ea7f5"), iptables=("iptables: -A X -j A", "iptables: -A X -j B")
    )
    after = state(
        links=("eth0", "lo", "veth2ed6665"), iptables=("iptables: -A X -j B", "iptables: -A X -j A")
    )
    assert differences(before, after) == []
    leaked = state(
        netns=("audlab-1-ab12-e1",),
        links=("eth0", "lo", "e1"),
        processes=("77 dockerd --data-root /var/lib/auditor-lab/1-ab12/e1/data",),
        iptables=("iptables: -A X -j B", "iptables: -A DOCKER -d 198.19.16.2/32 -j ACCEPT"),
    )
    assert differences(before, leaked) == [
        "netns: new audlab-1-ab12-e1",
        "link: new e1",
        "process: new 77 dockerd --data-root /var/lib/auditor-lab/1-ab12/e1/data",
        "iptables: gone iptables: -A X -j A",
        "iptables: new iptables: -A DOCKER -d 198.19.16.2/32 -j ACCEPT",
        "iptables: lab trace iptables: -A DOCKER -d 198.19.16.2/32 -j ACCEPT",
    ]
    assert differences(before, leaked, fields=("link",)) == ["link: new e1"]


def test_differences_count_duplicates():
    assert differences(state(iptables=("a", "a")), state(iptables=("a",))) == ["iptables: gone a"]


# --- reaper owners -------------------------------------------------------------------------


def test_owner_alive_checks_pid_start_time_and_boot():
    me = Owner.me()
    assert me.alive()
    assert not Owner(me.pid, (me.start_time or 0) + 1, me.boot_id).alive()  # a recycled pid
    assert not Owner(me.pid, me.start_time, "another-boot").alive()
    assert not Owner(dead_pid(), None, "").alive()


def test_owner_from_state_or_name():
    doc = {"owner": {"pid": 12, "start_time": 34, "boot_id": "b"}}
    assert owner_from_state(doc, "99-ab12") == Owner(12, 34, "b")
    assert owner_from_state(None, "99-ab12") == Owner(99, None, "")
    assert owner_from_state({"owner": "junk"}, "99-ab12") == Owner(99, None, "")
    assert owner_from_state(None, "not-a-lab") is None


def test_stale_labs_are_those_of_dead_owners(tmp_path):
    dead, me = dead_pid(), Owner.me()
    for lab_id, owner in (
        (f"{dead}-aaaa", None),
        (f"{me.pid}-bbbb", me),
        (f"{me.pid}-cccc", Owner(dead, None, "")),
    ):
        (tmp_path / lab_id).mkdir()
        if owner:
            write_state(
                tmp_path / lab_id,
                {"owner": {"pid": owner.pid, "start_time": owner.start_time, "boot_id": owner.boot_id}},
            )
    (tmp_path / "unrelated").mkdir()
    namespaces = [f"audlab-{dead}-eeee-e1", f"audlab-{me.pid}-ffff-lan", "audexp-1-x"]
    assert stale_labs(tmp_path, namespaces) == sorted([f"{dead}-aaaa", f"{dead}-eeee", f"{me.pid}-cccc"])


def test_destroy_removes_a_stale_directory_state_file_last(tmp_path):
    lab_id = f"{dead_pid()}-dddd"
    directory = tmp_path / lab_id
    (directory / "e1" / "data").mkdir(parents=True)
    (directory / "e1" / "daemon.json").write_text(json.dumps({}))
    write_state(directory, {"owner": {"pid": 1, "start_time": None, "boot_id": ""}})
    assert destroy(lab_id, directory, set()) == []
    assert not directory.exists()


def test_a_lab_gives_back_the_signal_handlers_it_found(tmp_path):
    import signal

    from support.lab import Lab

    before = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM))
    lab = Lab([EngineConfig("e1")], base_dir=tmp_path)
    lab._catch_sigterm()
    assert signal.getsignal(signal.SIGTERM) is not before[1]
    lab._restore_signals(lab._mask_signals())
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
