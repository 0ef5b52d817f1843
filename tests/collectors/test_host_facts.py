"""Host facts: dockerd flags, daemon.json, firewall dumps, and the reader on a fake root."""

from __future__ import annotations

from pathlib import Path

from auditor.collectors.host_facts import (
    parse_daemon_json,
    parse_dockerd_args,
    parse_iptables_save,
    parse_nft_ruleset,
    parse_ufw_conf,
    parse_version_output,
    read_local_host_facts,
    resolve_daemon_settings,
)
from auditor.collectors.raw import merge_host_facts, not_checked
from auditor.model.records import DaemonFacts

IPTABLES_DOCKER_ONLY = """\
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:DOCKER-USER - [0:0]
-A FORWARD -j DOCKER-USER
-A DOCKER-USER -j RETURN
COMMIT
"""
IPTABLES_UFW_FILTERED = """\
*filter
:INPUT DROP [0:0]
:DOCKER-USER - [0:0]
:ufw-before-input - [0:0]
:ufw-user-input - [0:0]
-A INPUT -j ufw-before-input
-A DOCKER-USER -i eth0 ! -s 192.168.1.0/24 -j DROP
-A DOCKER-USER -j RETURN
COMMIT
"""
NFT_FIREWALLD = """\
table inet firewalld {
\tchain filter_INPUT {
\t}
}
table ip filter {
\tchain DOCKER-USER {
\t}
}
"""


def test_dockerd_args_forms():
    args = [
        "/usr/bin/dockerd", "-H", "fd://", "-H=tcp://0.0.0.0:2375", "--host", "unix:///run/d.sock",
        "--iptables=false", "--userland-proxy=false", "--icc", "--ip", "127.0.0.1",
        "--containerd=/run/containerd/containerd.sock", "--config-file=/etc/alt.json", "--tlsverify=false",
    ]
    assert parse_dockerd_args(args) == {
        "hosts": ["fd://", "tcp://0.0.0.0:2375", "unix:///run/d.sock"],
        "iptables": False,
        "userland-proxy": False,
        "icc": True,
        "ip": "127.0.0.1",
        "config-file": "/etc/alt.json",
        "tlsverify": False,
    }
    assert parse_dockerd_args(["dockerd", "-Htcp://1.2.3.4:2375"]) == {"hosts": ["tcp://1.2.3.4:2375"]}


def test_daemon_json_keeps_known_typed_settings():
    text = '{"icc": false, "ip": "127.0.0.1", "hosts": ["unix://", "tcp://0.0.0.0:2376"], "tlsverify": true, "ip6tables": "yes"}'
    assert parse_daemon_json(text) == {"icc": False, "ip": "127.0.0.1", "hosts": ["unix://", "tcp://0.0.0.0:2376"], "tlsverify": True}


def test_resolve_applies_defaults_only_when_complete():
    assert resolve_daemon_settings({}, complete=False) == {}
    facts = resolve_daemon_settings({}, complete=True, version=(20, 10, 24))
    assert facts == {
        "icc": True, "userland_proxy": True, "iptables": True, "ip6tables": False, "ipv6": False,
        "allow_direct_routing": False, "tcp_api_without_tls": False,
    }
    assert resolve_daemon_settings({}, complete=True, version=(27, 0, 1))["ip6tables"] is True
    assert "ip6tables" not in resolve_daemon_settings({}, complete=True, version=None)


def test_resolve_tcp_without_tlsverify():
    facts = resolve_daemon_settings({"hosts": ["unix://", "tcp://0.0.0.0:2375"], "tls": True}, complete=False)
    assert facts == {"tcp_api_without_tls": True, "tcp_api_endpoints": ("tcp://0.0.0.0:2375",)}
    verified = resolve_daemon_settings({"hosts": ["tcp://0.0.0.0:2376"], "tlsverify": True}, complete=True)
    assert verified["tcp_api_without_tls"] is False


def test_firewall_dumps():
    assert parse_iptables_save(IPTABLES_DOCKER_ONLY) == {"docker_user_filters": False, "ufw_chains": False}
    assert parse_iptables_save(IPTABLES_UFW_FILTERED) == {"docker_user_filters": True, "ufw_chains": True}
    assert parse_nft_ruleset(NFT_FIREWALLD) == {"firewalld_table": True}
    assert parse_nft_ruleset("table ip nat {\n}\n") == {"firewalld_table": False}
    assert parse_ufw_conf("# comment\nENABLED=yes\nLOGLEVEL=low\n") is True
    assert parse_ufw_conf('ENABLED="no"\n') is False
    assert parse_ufw_conf("") is None
    assert parse_version_output("Docker version 20.10.24+dfsg1, build 297e128") == (20, 10, 24)
    assert parse_version_output("garbage") is None


def _fake_root(tmp_path: Path, argv: list[str], daemon_json: str | None = None, ufw: str | None = None, firewalld=False) -> Path:
    proc = tmp_path / "proc"
    (proc / "1").mkdir(parents=True)
    (proc / "1" / "comm").write_text("systemd\n")
    (proc / "321").mkdir()
    (proc / "321" / "comm").write_text("dockerd\n")
    (proc / "321" / "cmdline").write_text("\0".join(argv) + "\0")
    for pid in ("321", "self"):
        (proc / pid / "ns").mkdir(parents=True)
        (proc / pid / "ns" / "net").symlink_to("net:[4026531840]")
    if firewalld:
        (proc / "77").mkdir()
        (proc / "77" / "comm").write_text("firewalld\n")
        (proc / "77" / "cmdline").write_text("/usr/bin/python3\0/usr/sbin/firewalld\0")
    if daemon_json is not None:
        (tmp_path / "etc/docker").mkdir(parents=True)
        (tmp_path / "etc/docker/daemon.json").write_text(daemon_json)
    if ufw is not None:
        (tmp_path / "etc/ufw").mkdir(parents=True)
        (tmp_path / "etc/ufw/ufw.conf").write_text(ufw)
    return tmp_path


def test_other_network_namespace_leaves_firewall_unknown(tmp_path):
    root = _fake_root(tmp_path, ["dockerd"], "{}", "ENABLED=yes\n")
    (root / "proc/self/ns/net").unlink()
    (root / "proc/self/ns/net").symlink_to("net:[4026532999]")
    facts = read_local_host_facts(root, _runner({"iptables-save": IPTABLES_DOCKER_ONLY}))
    assert facts["userland_proxy"] is True
    assert not {"docker_user_filters", "ufw_active", "firewalld_active"} & set(facts)


def _runner(outputs: dict[str, str | None]):
    calls = []

    def run(cmd):
        calls.append(list(cmd))
        key = "version" if cmd[-1] == "--version" else cmd[0]
        return outputs.get(key)

    run.calls = calls
    return run


def test_reader_on_a_ufw_host(tmp_path):
    root = _fake_root(tmp_path, ["/usr/bin/dockerd", "-H", "fd://"], '{"userland-proxy": false, "ip": "127.0.0.1"}', "ENABLED=yes\n")
    run = _runner({"version": "Docker version 26.1.5, build a72d7cd", "iptables-save": IPTABLES_DOCKER_ONLY, "nft": "table ip nat {\n}\n"})
    facts = read_local_host_facts(root, run)
    assert facts == {
        "icc": True, "userland_proxy": False, "iptables": True, "ip6tables": False, "ipv6": False,
        "allow_direct_routing": False, "default_bind_ip": "127.0.0.1", "tcp_api_without_tls": False,
        "docker_user_filters": False, "ufw_active": True, "firewalld_active": False,
        "sources": ("dockerd command line", "/etc/docker/daemon.json", "iptables-save", "nft list ruleset"),
    }
    assert [str(root / "proc/321/exe"), "--version"] in run.calls
    merged = merge_host_facts(DaemonFacts(server_version="26.1.5"), facts)
    assert merged.ufw_active is True and merged.docker_user_filters is False
    assert "host firewall: DOCKER-USER chain rules" not in not_checked(merged)


def test_reader_flags_override_and_firewalld(tmp_path):
    root = _fake_root(tmp_path, ["dockerd", "--iptables=false", "-H", "tcp://0.0.0.0:2375"], None, None, firewalld=True)
    facts = read_local_host_facts(root, _runner({"version": None, "iptables-save": None, "nft": NFT_FIREWALLD}))
    assert facts["iptables"] is False
    assert facts["tcp_api_without_tls"] is True and facts["tcp_api_endpoints"] == ("tcp://0.0.0.0:2375",)
    assert facts["firewalld_active"] is True
    assert "ip6tables" not in facts  # version unknown: the default cannot be known
    assert "docker_user_filters" not in facts and "ufw_active" not in facts  # iptables-save unreadable


def test_reader_without_dockerd_or_with_broken_config(tmp_path):
    (tmp_path / "proc").mkdir()
    (tmp_path / "etc/docker").mkdir(parents=True)
    (tmp_path / "etc/docker/daemon.json").write_text('{"icc": false}')
    facts = read_local_host_facts(tmp_path, _runner({"iptables-save": IPTABLES_DOCKER_ONLY}))
    # no dockerd in sight (e.g. inside a container): explicit config only, firewall unknown
    assert facts == {"icc": False, "sources": ("/etc/docker/daemon.json",)}
    (tmp_path / "etc/docker/daemon.json").write_text("{not json")
    root = _fake_root(tmp_path / "b", ["dockerd"], "{not json")
    facts = read_local_host_facts(root, _runner({}))
    assert "userland_proxy" not in facts  # config unreadable: no defaults assumed
