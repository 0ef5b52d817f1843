"""The facts of the daemon behind an address, on a fake /proc: each daemon's own settings and
firewall, and nothing at all when no daemon can be named."""

from __future__ import annotations

import pytest
from support.fakeproc import FakeProc, socat_in_front

from auditor.collectors.daemon_facts import SYSCTL_KEYS, HostReading, read_host_facts, sysctl_text
from auditor.collectors.raw import merge_host_facts, not_checked
from auditor.model.exposure import HostDumps
from auditor.model.records import DaemonFacts

from .test_host_facts import IPTABLES_DOCKER_ONLY, IPTABLES_UFW_FILTERED, NFT_FIREWALLD

VERSION = "20.10.24+dfsg1"  # what the engine's API reports
DEFAULTS_20_10 = {
    "icc": True, "userland_proxy": True, "iptables": True, "ip6tables": False, "ipv6": False,
    "allow_direct_routing": False, "tcp_api_without_tls": False,
}  # fmt: skip


class Runner:
    """Answers commands by (namespace, tool): the pid an ``nsenter --net`` names, or None for a
    command run in the scanner's own namespace. Records every call."""

    def __init__(self, outputs: dict[tuple[int | None, str], str | None]) -> None:
        self.outputs = outputs
        self.calls: list[tuple[int | None, list[str]]] = []

    def __call__(self, cmd) -> str | None:
        argv, pid = list(cmd), None
        if argv[0] == "nsenter":
            assert argv[1].startswith("--net=/proc/") and argv[1].endswith("/ns/net"), argv
            pid = int(argv[1].split("/")[2])
            argv = argv[argv.index("--") + 1 :]
        self.calls.append((pid, argv))
        return self.outputs.get((pid, argv[0]))


@pytest.fixture
def machine_and_lab(tmp_path):
    """The machine's dockerd (pid 200, init namespace, UFW enabled) and a lab dockerd (pid 300)
    in a namespace of its own with its own config file."""
    fake = FakeProc(tmp_path)
    host = fake.namespace()
    lab = fake.namespace("audlab-1234-ab12-e1")
    fake.scanner(100, host)
    fake.process(1, "systemd", ["/sbin/init"], host)
    fake.process(200, "dockerd", ["/usr/sbin/dockerd", "-H", "unix:///run/docker.sock"], host, sockets=[5000])
    fake.process(
        300, "dockerd", ["dockerd", "--config-file", "/lab/e1/daemon.json"], lab, sockets=[6000]
    )  # its hosts are in its config file
    fake.process(301, "containerd", ["containerd", "--config", "/lab/e1/containerd.toml"], lab)
    fake.unix(host, 5000, "/run/docker.sock")
    fake.unix(lab, 6000, "/lab/e1/docker.sock")
    (fake.root / "etc/docker").mkdir(parents=True)
    (fake.root / "etc/docker/daemon.json").write_text('{"userland-proxy": false, "ip": "127.0.0.1"}')
    (fake.root / "lab/e1/daemon.json").write_text('{"icc": false, "hosts": ["tcp://198.18.0.11:2375"]}')
    (fake.root / "etc/ufw").mkdir(parents=True)
    (fake.root / "etc/ufw/ufw.conf").write_text("ENABLED=yes\n")
    fake.lab_ns = lab
    fake.host_ns = host
    return fake.write()


def machine_socket(fake: FakeProc) -> str:
    return f"unix://{fake.root}/run/docker.sock"


def lab_socket(fake: FakeProc) -> str:
    return f"unix://{fake.root}/lab/e1/docker.sock"


NFT = "table ip nat {\n}\n"


def dump_calls(pid: int | None, interfaces: tuple[str, ...] = ()) -> list[tuple[int | None, list[str]]]:
    """The read-only commands that fill the exposure dumps, sorted (most run concurrently)."""
    localnet = [f"net.ipv4.conf.{n}.route_localnet" for n in ("all", *interfaces)]
    return sorted(
        [
            (pid, ["nft", "-j", "list", "ruleset"]),
            (pid, ["ip6tables-save"]),
            (pid, ["ip", "-j", "addr"]),
            (pid, ["sysctl", "-e", *SYSCTL_KEYS, *localnet]),
            (pid, ["ipset", "save"]),
            (pid, ["ip", "-j", "route"]),
            (pid, ["ip", "-6", "-j", "route"]),
            (pid, ["ss", "-Hltnu"]),
        ]
    )


def both_runner() -> Runner:
    return Runner(
        {
            (None, "iptables-save"): IPTABLES_UFW_FILTERED,
            (None, "nft"): "table ip nat {\n}\n",
            (300, "iptables-save"): IPTABLES_DOCKER_ONLY,
            (300, "nft"): "table ip nat {\n}\n",
        }
    )


def test_the_machine_daemon_is_read_with_its_own_config_and_firewall(machine_and_lab):
    fake = machine_and_lab
    run = both_runner()
    reading = read_host_facts(machine_socket(fake), VERSION, fake.proc, fake.netns_dir, run)
    assert reading.notes == ()
    assert reading.facts == (
        {
            **DEFAULTS_20_10,
            "userland_proxy": False,
            "default_bind_ip": "127.0.0.1",
            "docker_user_filters": True,
            "ufw_active": True,
            "firewalld_active": False,
            "sources": (
                "dockerd command line (pid 200)",
                "/etc/docker/daemon.json",
                "iptables-save",
                "nft -j list ruleset",
                "/etc/ufw/ufw.conf",
            ),
        }  # fmt: skip
    )
    # nothing else runs (the ruleset is read once, as JSON, and all at the same time); the
    # commands that answer nothing leave their dumps unknown
    assert sorted(run.calls) == sorted([(None, ["iptables-save"]), *dump_calls(None)])
    assert reading.dumps == HostDumps(
        iptables_save=IPTABLES_UFW_FILTERED, nft_json=NFT, docker_proxy="",
        source="dockerd (pid 200) in the scanner netns",
    )  # fmt: skip


def test_a_second_daemon_is_read_in_its_own_namespace_not_with_the_first_ones_settings(machine_and_lab):
    fake = machine_and_lab
    run = both_runner()
    reading = read_host_facts(lab_socket(fake), VERSION, fake.proc, fake.netns_dir, run)
    assert reading.notes == ()
    assert reading.facts == (
        {
            **DEFAULTS_20_10,
            "icc": False,
            "tcp_api_without_tls": True,
            "tcp_api_endpoints": ("tcp://198.18.0.11:2375",),
            # UFW's config is the init namespace's; this namespace has no UFW chains
            "docker_user_filters": False,
            "ufw_active": False,
            "firewalld_active": False,
            "sources": (
                "dockerd command line (pid 300)",
                "/lab/e1/daemon.json",
                "iptables-save in netns audlab-1234-ab12-e1",
                "nft -j list ruleset in netns audlab-1234-ab12-e1",
            ),
        }  # fmt: skip
    )
    # the two firewall dumps are read at the same time, before the others
    assert sorted(run.calls) == sorted([(300, ["iptables-save"]), *dump_calls(300)])
    assert reading.dumps == HostDumps(
        iptables_save=IPTABLES_DOCKER_ONLY, nft_json=NFT, docker_proxy="",
        source="dockerd (pid 300) in netns audlab-1234-ab12-e1",
    )  # fmt: skip
    api = DaemonFacts(server_version="20.10.24", icc=False, default_bind_ip="0.0.0.0")  # its bridge's options
    merged = merge_host_facts(api, reading.facts)
    assert (merged.userland_proxy, merged.icc, merged.ufw_active) == (True, False, False)
    assert not_checked(merged) == ()


def test_the_dumps_hold_the_daemon_namespace_s_proxies_sysctls_and_addresses(machine_and_lab):
    fake = machine_and_lab
    fake.process(
        310, "docker-proxy", ["/usr/bin/docker-proxy", "-proto", "tcp", "-host-port", "8080"], fake.lab_ns
    )
    fake.process(
        210, "docker-proxy", ["/usr/bin/docker-proxy", "-proto", "tcp", "-host-port", "9090"], fake.host_ns
    )
    fake.write()
    addr = '[{"ifname": "lo"}, {"ifname": "eth0.100"}, {"ifname": "docker0"}]'
    run = both_runner()
    run.outputs.update({(300, "ip"): addr, (300, "sysctl"): "net.ipv4.ip_forward = 1\n"})
    dumps = read_host_facts(lab_socket(fake), VERSION, fake.proc, fake.netns_dir, run).dumps
    assert dumps is not None
    assert dumps.docker_proxy == "/usr/bin/docker-proxy -proto tcp -host-port 8080\n"  # its namespace only
    assert (dumps.ip_addr, dumps.ip_route, dumps.ss_listen) == (addr, addr, None)  # `ip` answers both here
    assert sorted(c for c in run.calls if c[1] != ["iptables-save"]) == dump_calls(
        300, ("lo", "docker0")
    )  # sysctl cannot name eth0.100
    assert dumps.sysctl == (  # the fake /proc has no net/bridge: br_netfilter is not loaded
        "net.ipv4.ip_forward = 1\n"
        "# net.bridge.bridge-nf-call-iptables: br_netfilter not loaded\nnet.bridge.bridge-nf-call-iptables = 0\n"
        "# net.bridge.bridge-nf-call-ip6tables: br_netfilter not loaded\nnet.bridge.bridge-nf-call-ip6tables = 0\n"
    )


def test_the_dumps_are_handed_on_before_the_version_is_asked_for(machine_and_lab):
    """A caller waiting for the engine's version can parse the dumps meanwhile."""
    fake = machine_and_lab
    events: list[object] = []

    def version() -> str:
        events.append("version")
        return VERSION

    reading = read_host_facts(
        lab_socket(fake), version, fake.proc, fake.netns_dir, both_runner(), on_dumps=events.append
    )
    assert reading.dumps is not None
    assert events == [reading.dumps, "version"]  # the very dumps of the reading, first


def test_on_found_is_called_once_the_daemon_is_found_before_any_command(machine_and_lab):
    """A caller can start its own work there, while the namespace's commands wait."""
    fake = machine_and_lab
    run = both_runner()
    found: list[int] = []
    reading = read_host_facts(
        lab_socket(fake),
        VERSION,
        fake.proc,
        fake.netns_dir,
        run,
        on_found=lambda: found.append(len(run.calls)),
    )
    assert reading.dumps is not None and run.calls  # the namespace was read after it
    assert found == [0]  # once, before the first command
    missing = []
    gone = read_host_facts(f"unix://{fake.root}/none.sock", VERSION, fake.proc, fake.netns_dir, run,
                           on_found=lambda: missing.append(1))  # fmt: skip
    assert gone.dumps is None and missing == []  # no daemon: not called


def test_sysctl_text_keeps_a_missing_key_unknown_when_br_netfilter_is_loaded():
    assert sysctl_text("net.ipv4.ip_forward = 0\n", bridge_module=True) == "net.ipv4.ip_forward = 0\n"
    assert sysctl_text(None, bridge_module=False) is None


def test_firewalld_counts_only_in_the_namespace_it_runs_in(machine_and_lab, tmp_path):
    fake = machine_and_lab
    fake.process(77, "firewalld", ["/usr/bin/python3", "/usr/sbin/firewalld"], fake.lab_ns)
    fake.write()
    run = both_runner()
    assert (
        read_host_facts(lab_socket(fake), VERSION, fake.proc, fake.netns_dir, run).facts["firewalld_active"]
        is True
    )
    assert (
        read_host_facts(machine_socket(fake), VERSION, fake.proc, fake.netns_dir, run).facts[
            "firewalld_active"
        ]
        is False
    )
    run.outputs[(300, "nft")] = NFT_FIREWALLD  # its table, without the process
    (fake.proc / "77").rename(tmp_path / "gone")
    assert (
        read_host_facts(lab_socket(fake), VERSION, fake.proc, fake.netns_dir, run).facts["firewalld_active"]
        is True
    )


def test_a_socket_proxy_leaves_every_daemon_fact_unknown(tmp_path):
    fake = socat_in_front(tmp_path)
    run = Runner({})
    reading = read_host_facts(f"unix://{fake.root}/run/ro.sock", VERSION, fake.proc, fake.netns_dir, run)
    assert reading == HostReading(
        {}, ("daemon and firewall settings not read: served by socat (pid 400), not by dockerd (a proxy?)",)
    )
    assert run.calls == []  # nothing borrowed from the dockerd next door
    merged = merge_host_facts(DaemonFacts(server_version="20.10.24"), reading.facts)
    assert "daemon userland-proxy setting" in not_checked(merged)
    assert "host firewall: DOCKER-USER chain rules" in not_checked(merged)


@pytest.mark.parametrize(
    ("address", "note"),
    [
        ("tcp://198.18.5.5:2376", "no process listens on 198.18.5.5:2376"),
        ("ssh://ops@host1", "only a unix:// or tcp:// engine on this machine is read, not ssh://ops@host1"),
    ],
)
def test_a_remote_engine_has_no_daemon_facts(machine_and_lab, address, note):
    fake = machine_and_lab
    reading = read_host_facts(address, VERSION, fake.proc, fake.netns_dir, Runner({}))
    assert reading == HostReading({}, (f"daemon and firewall settings not read: {note}",))


def test_unreadable_config_namespace_and_dump_stay_unknown(machine_and_lab):
    fake = machine_and_lab
    (fake.root / "lab/e1/daemon.json").write_text("{not json")
    run = both_runner()
    run.outputs[(300, "iptables-save")] = None
    reading = read_host_facts(lab_socket(fake), VERSION, fake.proc, fake.netns_dir, run)
    assert reading.facts == {  # no defaults without the config, no DOCKER-USER or UFW without the dump
        "firewalld_active": False,
        "sources": ("dockerd command line (pid 300)", "nft -j list ruleset in netns audlab-1234-ab12-e1"),
    }
    assert reading.notes == (
        "/lab/e1/daemon.json of dockerd (pid 300) is not valid JSON: its settings are not checked",
        "iptables-save in netns audlab-1234-ab12-e1 failed: DOCKER-USER rules are not checked",
    )
    (fake.proc / "300/ns/net").unlink()  # the daemon's namespace link cannot be read
    reading = read_host_facts(lab_socket(fake), VERSION, fake.proc, fake.netns_dir, run)
    assert (
        reading.notes[-1]
        == "the network namespace of dockerd (pid 300) is not readable: its firewall is not checked"
    )
    assert not {"docker_user_filters", "ufw_active", "firewalld_active"} & set(reading.facts)


def test_flags_override_and_unknown_version_leaves_ip6tables_unknown(tmp_path):
    fake = FakeProc(tmp_path)
    ns = fake.namespace()
    fake.scanner(100, ns)
    fake.process(1, "systemd", ["/sbin/init"], ns)
    fake.process(
        200, "dockerd", ["dockerd", "--iptables=false", "-H", "tcp://0.0.0.0:2375"], ns, sockets=[5000]
    )
    fake.unix(ns, 5000, "/run/docker.sock")
    (fake.root / "etc/docker").mkdir(parents=True)
    fake.write()
    socket = f"unix://{fake.root}/run/docker.sock"
    facts = read_host_facts(socket, None, fake.proc, fake.netns_dir, Runner({})).facts
    assert facts["iptables"] is False
    assert (facts["tcp_api_without_tls"], facts["tcp_api_endpoints"]) == (True, ("tcp://0.0.0.0:2375",))
    assert "ip6tables" not in facts  # version unknown: the default cannot be known
    newer = read_host_facts(socket, "27.1.1", fake.proc, fake.netns_dir, Runner({})).facts
    assert newer["ip6tables"] is True  # on by default since 27.0


def test_a_listener_named_by_the_api_and_by_the_config_is_one_endpoint():
    """The API warns about ``http://198.18.0.11:2375``, the config says ``tcp://198.18.0.11:2375``
    (lab engine e1): HOST001 must name one listener, not two."""
    api = DaemonFacts(
        tcp_api_without_tls=True, tcp_api_endpoints=("http://198.18.0.11:2375", "http://[::1]:2375")
    )
    host = {"tcp_api_without_tls": True, "tcp_api_endpoints": ("tcp://198.18.0.11:2375",)}
    assert merge_host_facts(api, host).tcp_api_endpoints == ("http://[::1]:2375", "tcp://198.18.0.11:2375")


def test_each_process_name_is_read_once_for_every_search(machine_and_lab, monkeypatch):
    """The daemon, docker-proxy and firewalld searches share one pass over the processes
    (each pass cost ~25 ms with 200 containers): no name is read twice."""
    import auditor.collectors.daemon_process as module

    fake = machine_and_lab
    read, names = module._comm_at, []
    monkeypatch.setattr(module, "_comm_at", lambda root, pid: names.append(pid) or read(root, pid))
    read_host_facts(lab_socket(fake), VERSION, fake.proc, fake.netns_dir, both_runner())
    processes = sorted(int(p.name) for p in fake.proc.iterdir() if p.name.isdigit())
    assert names == processes


def test_an_engine_not_on_this_machine_reads_no_process(machine_and_lab, monkeypatch):
    """An ``ssh://`` engine is not read here: it is told so before any process is read."""
    import auditor.collectors.daemon_process as module

    fake = machine_and_lab
    read, names = module._comm_at, []
    monkeypatch.setattr(module, "_comm_at", lambda root, pid: names.append(pid) or read(root, pid))
    reading = read_host_facts("ssh://user@host", VERSION, fake.proc, fake.netns_dir, both_runner())
    assert reading.notes[0].endswith(
        "only a unix:// or tcp:// engine on this machine is read, not ssh://user@host"
    )
    assert names == []
