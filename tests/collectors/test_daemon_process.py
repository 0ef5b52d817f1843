"""Finding the dockerd behind an address: parsers on real /proc text, lookups on a fake /proc."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support.fakeproc import FakeProc, socat_in_front

from auditor.collectors.daemon_process import (
    Endpoint,
    TcpListener,
    UnixListener,
    config_path,
    listener_matches,
    parse_endpoint,
    parse_fib_trie_local,
    parse_if_inet6,
    parse_netns_link,
    parse_proc_net_tcp,
    parse_proc_net_unix,
    read_daemon,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "proc"
LAB = "/var/lib/auditor-lab/1234-ab12/e2"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


# --- parsers on text read off lab engines ----------------------------------------------------


def test_unix_listeners_only_listening_pathname_sockets():
    assert parse_proc_net_unix(fixture("e2_unix.txt")) == (
        UnixListener(730139, f"{LAB}/exec/containerd/containerd-debug.sock"),
        UnixListener(730140, f"{LAB}/exec/containerd/containerd.sock.ttrpc"),
        UnixListener(730141, f"{LAB}/exec/containerd/containerd.sock"),
        UnixListener(727961, f"{LAB}/docker.sock"),
        UnixListener(730427, f"{LAB}/exec/libnetwork/d5f6fdee15b4.sock"),
        UnixListener(730148, f"{LAB}/exec/metrics.sock"),
    )  # connected ends (St 03) with the same paths, unbound and abstract (@ea694) sockets skipped


def test_unix_path_with_spaces_is_kept_whole():
    text = "Num RefCount Protocol Flags Type St Inode Path\nff: 00000002 00000000 00010000 0001 01 42 /run/my docker.sock\n"
    assert parse_proc_net_unix(text) == (UnixListener(42, "/run/my docker.sock"),)


def test_tcp_listener_on_one_address():
    assert parse_proc_net_tcp(fixture("e1_tcp.txt")) == (TcpListener(729105, "198.18.0.11", 2375),)


def test_tcp6_wildcard_is_what_go_binds_for_0_0_0_0():
    assert parse_proc_net_tcp(fixture("e2_tcp6.txt")) == (TcpListener(730129, "::", 2375),)


def test_tcp_skips_established_and_decodes_ipv6_words():
    text = (
        "  sl  local_address                         remote_address                        st\n"
        "   0: 0000000000000000FFFF00000B0012C6:0947 00000000000000000000000000000000:0000 0A 0:0 00:0 0 0 0 9 1\n"
        "   1: 02000120FF0000000000000065000000:0050 00000000000000000000000000000000:0000 01 0:0 00:0 0 0 0 8 1\n"
        "   2: 02000120FF000000000000000C000000:1F90 00000000000000000000000000000000:0000 0A 0:0 00:0 0 0 0 7 1\n"
    )
    assert parse_proc_net_tcp(text) == (
        TcpListener(9, "198.18.0.11", 2375),  # IPv4-mapped
        TcpListener(7, "2001:2:0:ff::c", 8080),
    )


def test_fib_trie_local_addresses():
    assert parse_fib_trie_local(fixture("e2_fib_trie.txt")) == frozenset(
        {"127.0.0.1", "198.18.0.12", "198.19.32.1"}
    )


def test_if_inet6_addresses():
    assert parse_if_inet6(fixture("e2_if_inet6.txt")) == frozenset(
        {"fe80::1", "fe80::549a:8aff:fe35:8b87", "2001:2:0:ff::c", "2001:2:0:2::1", "::1"}
    )


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("unix:///var/run/docker.sock", Endpoint("unix", path="/var/run/docker.sock")),
        ("/run/user/1000/docker.sock", Endpoint("unix", path="/run/user/1000/docker.sock")),
        ("tcp://198.18.0.11:2375", Endpoint("tcp", host="198.18.0.11", port=2375)),
        ("tcp://[2001:2:0:ff::b]:2376", Endpoint("tcp", host="2001:2:0:ff::b", port=2376)),
        ("tcp://engine.example:2376/", Endpoint("tcp", host="engine.example", port=2376)),
    ],
)
def test_parse_endpoint(address, expected):
    assert parse_endpoint(address) == expected


@pytest.mark.parametrize(
    "address", ["ssh://ops@host", "tcp://198.18.0.11", "npipe:////./pipe/docker_engine", "docker.sock"]
)
def test_parse_endpoint_rejects(address):
    with pytest.raises(ValueError):
        parse_endpoint(address)


def test_netns_link():
    assert parse_netns_link("net:[4026531833]") == 4026531833
    assert parse_netns_link("mnt:[4026531833]") is None


def test_config_path_choices():
    assert config_path(["dockerd"], {}, 0) == "/etc/docker/daemon.json"
    assert config_path(["dockerd", "--config-file", "/etc/alt.json"], {}, 0) == "/etc/alt.json"
    assert config_path(["dockerd", "--config-file=rel.json"], {}, 0) == "rel.json"
    rootless = {"ROOTLESSKIT_STATE_DIR": "/run/user/1000/dockerd-rootless", "HOME": "/home/ops"}
    assert config_path(["dockerd"], rootless, 0) == "/home/ops/.config/docker/daemon.json"
    assert (
        config_path(["dockerd"], {"XDG_CONFIG_HOME": "/cfg", "HOME": "/home/ops"}, 1000)
        == "/cfg/docker/daemon.json"
    )


@pytest.mark.parametrize(
    ("listener", "host", "local", "expected"),
    [
        (TcpListener(1, "198.18.0.11", 2375), "198.18.0.11", frozenset(), True),
        (TcpListener(1, "198.18.0.11", 2375), "198.18.0.12", frozenset({"198.18.0.12"}), False),
        (TcpListener(1, "0.0.0.0", 2375), "198.18.0.12", frozenset({"198.18.0.12"}), True),
        (TcpListener(1, "0.0.0.0", 2375), "198.18.0.12", frozenset({"198.18.0.11"}), False),
        (TcpListener(1, "::", 2375), "198.18.0.12", frozenset({"198.18.0.12"}), True),  # dual-stack
        (TcpListener(1, "0.0.0.0", 2375), "2001:2:0:ff::c", frozenset({"2001:2:0:ff::c"}), False),
        (TcpListener(1, "::", 2375), "127.0.0.1", frozenset(), True),
    ],
)
def test_listener_matches(listener, host, local, expected):
    assert listener_matches(listener, host, local) is expected


# --- lookups on a fake /proc ---------------------------------------------------------------


@pytest.fixture
def two_engines(tmp_path):
    """The machine's dockerd and a lab dockerd in a named namespace, each with its socket."""
    fake = FakeProc(tmp_path)
    host = fake.namespace()
    lab = fake.namespace("audlab-1234-ab12-e1")
    fake.scanner(100, host)
    fake.process(1, "systemd", ["/sbin/init"], host)
    fake.process(
        200, "dockerd", ["/usr/sbin/dockerd", "-H", "unix:///run/docker.sock"], host, sockets=[5000, 5001]
    )
    fake.process(
        300,
        "dockerd",
        ["dockerd", "--config-file", "/lab/e1/daemon.json", "-H", "unix:///lab/e1/docker.sock"],
        lab,
        sockets=[6000, 6100],
    )
    fake.unix(host, 5000, "/run/docker.sock")
    fake.unix(host, 5099, "/run/docker.sock", listening=False)  # a client's end: never the server
    fake.unix(lab, 6000, "/lab/e1/docker.sock")
    fake.tcp(lab, 6100, "0B0012C6", 2375)  # 198.18.0.11:2375
    (fake.root / "lab/e1/daemon.json").write_text('{"icc": false}')
    (fake.root / "etc/docker").mkdir(parents=True)
    (fake.root / "var").mkdir()
    os.symlink("../run", fake.root / "var/run")
    return fake.write(), host, lab


def test_machine_socket_is_the_machine_daemon(two_engines):
    fake, host, _lab = two_engines
    found = fake.lookup(f"unix://{fake.root}/run/docker.sock")
    assert found.reason is None
    assert found.holders == ((200, "dockerd"),)
    daemon = found.daemon
    assert (daemon.pid, daemon.config_file, daemon.config_present, daemon.config_text) == (
        200,
        "/etc/docker/daemon.json",
        False,  # no file: defaults apply
        None,
    )
    assert (daemon.netns_inode, daemon.netns_name, daemon.shares_scanner_netns) == (host, None, True)
    assert daemon.nsenter_argv(["iptables-save"]) == [
        "nsenter",
        "--net=/proc/200/ns/net",
        "--",
        "iptables-save",
    ]


def test_lab_socket_is_the_lab_daemon_in_its_named_namespace(two_engines):
    fake, _host, lab = two_engines
    daemon = fake.lookup(str(fake.root / "lab/e1/docker.sock")).daemon
    assert daemon.pid == 300
    assert daemon.argv == (
        "dockerd",
        "--config-file",
        "/lab/e1/daemon.json",
        "-H",
        "unix:///lab/e1/docker.sock",
    )
    assert (daemon.config_file, daemon.config_present, daemon.config_text) == (
        "/lab/e1/daemon.json",
        True,
        '{"icc": false}',
    )
    assert (daemon.netns_inode, daemon.netns_name, daemon.shares_scanner_netns) == (
        lab,
        "audlab-1234-ab12-e1",
        False,
    )
    assert daemon.exe == "/usr/bin/dockerd"


def test_symlinked_socket_path_resolves_to_the_same_listener(two_engines):
    fake, _host, _lab = two_engines
    assert fake.lookup(f"unix://{fake.root}/var/run/docker.sock").daemon.pid == 200


def test_unknown_socket_names_no_daemon(two_engines):
    fake, _host, _lab = two_engines
    (fake.root / "run/other.sock").touch()
    found = fake.lookup(str(fake.root / "run/other.sock"))
    assert (found.daemon, found.holders, found.reason) == (
        None,
        (),
        f"no process listens on {fake.root}/run/other.sock",
    )


def test_tcp_address_finds_the_namespace_that_listens_on_it(two_engines):
    fake, _host, lab = two_engines
    found = fake.lookup("tcp://198.18.0.11:2375")
    assert (found.daemon.pid, found.daemon.netns_inode) == (300, lab)


def test_tcp_loopback_means_the_scanners_own_namespace(two_engines):
    fake, _host, _lab = two_engines
    found = fake.lookup("tcp://127.0.0.1:2375")  # the lab daemon's port, but in another namespace
    assert (found.daemon, found.reason) == (None, "no process listens on 127.0.0.1:2375")


def test_socket_activation_picks_dockerd_not_systemd(tmp_path):
    fake = FakeProc(tmp_path)
    ns = fake.namespace()
    fake.scanner(100, ns)
    fake.process(1, "systemd", ["/sbin/init"], ns, sockets=[7000])
    fake.process(900, "dockerd", ["/usr/bin/dockerd", "-H", "fd://"], ns, sockets=[7000])
    fake.unix(ns, 7000, "/run/docker.sock")
    found = fake.write().lookup(str(fake.root / "run/docker.sock"))
    assert found.holders == ((900, "dockerd"),)  # a dockerd holds it: the other holders are not searched
    assert found.daemon.pid == 900


def test_socket_proxy_is_named_and_settings_stay_unknown(tmp_path):
    fake = socat_in_front(tmp_path)
    found = fake.lookup(str(fake.root / "run/ro.sock"))
    assert (found.daemon, found.holders) == (None, ((400, "socat"),))
    assert found.reason == "served by socat (pid 400), not by dockerd (a proxy?)"


def test_tcp_proxy_beside_a_daemon_is_named(tmp_path):
    """A dockerd holds its own listeners, but not the scanned port: every process is searched
    and the proxy that holds it is named."""
    fake = FakeProc(tmp_path)
    ns = fake.namespace()
    fake.scanner(100, ns)
    fake.process(200, "dockerd", ["dockerd"], ns, sockets=[5000, 5001])
    fake.process(400, "haproxy", ["haproxy"], ns, sockets=[9000])
    fake.unix(ns, 5000, "/run/docker.sock")
    fake.tcp(ns, 5001, "0100007F", 2375)  # 127.0.0.1:2375, the daemon's
    fake.tcp(ns, 9000, "0100007F", 2376)  # 127.0.0.1:2376, the proxy's
    fake.write()
    found = fake.lookup("tcp://127.0.0.1:2376")
    assert (found.daemon, found.holders) == (None, ((400, "haproxy"),))
    assert found.reason == "served by haproxy (pid 400), not by dockerd (a proxy?)"
    assert fake.lookup("tcp://127.0.0.1:2375").daemon.pid == 200


def test_wildcard_listener_in_the_namespace_that_owns_the_address(tmp_path):
    fake = FakeProc(tmp_path)
    host, e1, e2 = fake.namespace(), fake.namespace("lab-e1"), fake.namespace("lab-e2")
    fake.scanner(100, host)
    fake.process(201, "dockerd", ["dockerd"], e1, sockets=[11])
    fake.process(202, "dockerd", ["dockerd"], e2, sockets=[12])
    fake.tcp(e1, 11, "0" * 32, 2375, v6=True)
    fake.tcp(e2, 12, "0" * 32, 2375, v6=True)
    fake.local(e1, "198.18.0.11")
    fake.local(e2, "198.18.0.12")
    fake.write()
    assert fake.lookup("tcp://198.18.0.12:2375").daemon.netns_name == "lab-e2"
    assert fake.lookup("tcp://198.18.0.11:2375").daemon.netns_name == "lab-e1"
    assert fake.lookup("tcp://198.18.0.13:2375").reason == "no process listens on 198.18.0.13:2375"


def test_same_address_in_two_namespaces_is_ambiguous(tmp_path):
    fake = FakeProc(tmp_path)
    host, a, b = fake.namespace(), fake.namespace("a"), fake.namespace("b")
    fake.scanner(100, host)
    fake.process(201, "dockerd", ["dockerd"], a, sockets=[11])
    fake.process(202, "dockerd", ["dockerd"], b, sockets=[12])
    for ns, inode in ((a, 11), (b, 12)):
        fake.tcp(ns, inode, "0B0012C6", 2375)
    found = fake.write().lookup("tcp://198.18.0.11:2375")
    assert (found.daemon, found.reason) == (None, "198.18.0.11:2375 is local to 2 network namespaces")


def test_rootless_daemon_reads_its_own_config_through_its_root(tmp_path):
    fake = FakeProc(tmp_path)
    ns = fake.namespace()
    fake.scanner(100, ns)
    env = {"ROOTLESSKIT_STATE_DIR": "/run/user/1000/dockerd-rootless", "HOME": "/home/ops", "SECRET": "x"}
    fake.process(500, "dockerd", ["dockerd"], ns, uid=1000, environ=env)
    (fake.root / "home/ops/.config/docker").mkdir(parents=True)
    (fake.root / "home/ops/.config/docker/daemon.json").write_text('{"userland-proxy": false}')
    daemon = read_daemon(500, fake.write().proc, fake.netns_dir)
    assert (daemon.config_file, daemon.config_text) == (
        "/home/ops/.config/docker/daemon.json",
        '{"userland-proxy": false}',
    )


def test_unreadable_config_directory_is_unknown_not_absent(tmp_path):
    fake = FakeProc(tmp_path)
    ns = fake.namespace()
    fake.scanner(100, ns)
    fake.process(200, "dockerd", ["dockerd", "--config-file", "/nowhere/daemon.json"], ns)
    daemon = read_daemon(200, fake.write().proc, fake.netns_dir)
    assert (daemon.config_present, daemon.config_text) == (None, None)


def test_a_listener_whose_holder_cannot_be_seen_is_not_guessed(tmp_path):
    """Without root, /proc/PID/fd of the daemon is unreadable: the listener is there, its
    server cannot be named, and the lookup says so instead of "nothing listens"."""
    fake = FakeProc(tmp_path)
    ns = fake.namespace()
    fake.scanner(100, ns)
    fake.process(200, "dockerd", ["dockerd"], ns)  # its fds are not visible
    fake.unix(ns, 5000, "/run/docker.sock")
    fake.tcp(ns, 5001, "0100007F", 2375)  # 127.0.0.1:2375
    fake.write()
    found = fake.lookup(str(fake.root / "run/docker.sock"))
    assert (found.daemon, found.holders, found.reason) == (
        None,
        (),
        f"cannot tell which process serves {fake.root}/run/docker.sock: no visible process holds it "
        "(other processes' file descriptors need root to read)",
    )
    assert fake.lookup("tcp://127.0.0.1:2375").reason == (
        "cannot tell which process listens on 127.0.0.1:2375: no visible process holds it "
        "(other processes' file descriptors need root to read)"
    )


def _reads_of_net_unix(monkeypatch) -> list[str]:
    import auditor.collectors.daemon_process as module

    read, seen = module._read, []

    def recording(path: Path) -> str | None:
        if path.name == "unix":
            seen.append(path.parent.parent.name)  # the reader's pid
        return read(path)

    monkeypatch.setattr(module, "_read", recording)
    return seen


def test_the_daemons_namespaces_are_read_before_every_containers(tmp_path, monkeypatch):
    """A dockerd holding the socket is found from its own namespace's listeners: the
    namespaces of the other processes (one per container) are not read at all."""
    fake = FakeProc(tmp_path)
    host = fake.namespace()
    fake.scanner(100, host)
    fake.process(200, "dockerd", ["dockerd"], host, sockets=[5000])
    for i in range(5):
        fake.process(300 + i, "sleep", ["sleep", "inf"], fake.namespace())  # a container each
    fake.unix(host, 5000, "/run/docker.sock")
    fake.write()
    seen = _reads_of_net_unix(monkeypatch)
    assert fake.lookup(str(fake.root / "run/docker.sock")).daemon.pid == 200
    assert seen == ["200"]


def test_a_listener_outside_the_daemons_namespace_is_still_found(tmp_path, monkeypatch):
    """Socket activation from another namespace: systemd created the listener in its own
    namespace and the dockerd that inherited it runs in a second one. The daemons' round finds
    nothing; the round over every process finds the dockerd."""
    fake = FakeProc(tmp_path)
    host, other = fake.namespace(), fake.namespace()
    fake.scanner(100, host)
    fake.process(1, "systemd", ["/sbin/init"], host, sockets=[7000])
    fake.process(900, "dockerd", ["/usr/bin/dockerd", "-H", "fd://"], other, sockets=[7000])
    fake.unix(host, 7000, "/run/docker.sock")
    fake.write()
    seen = _reads_of_net_unix(monkeypatch)
    found = fake.lookup(str(fake.root / "run/docker.sock"))
    assert (found.daemon.pid, found.holders) == (900, ((1, "systemd"), (900, "dockerd")))
    assert seen == ["900", "1", "900"]  # the daemon's namespace, then the first process of each
