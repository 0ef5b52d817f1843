"""Host-fact parsers: dockerd flags, daemon.json, firewall dumps (the reader: test_daemon_facts)."""

from __future__ import annotations

from auditor.collectors.host_facts import (
    parse_daemon_json,
    parse_dockerd_args,
    parse_iptables_save,
    parse_nft_ruleset,
    parse_server_version,
    parse_ufw_conf,
    resolve_daemon_settings,
)

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
        "/usr/bin/dockerd",
        "-H",
        "fd://",
        "-H=tcp://0.0.0.0:2375",
        "--host",
        "unix:///run/d.sock",
        "--iptables=false",
        "--userland-proxy=false",
        "--icc",
        "--ip",
        "127.0.0.1",
        "--containerd=/run/containerd/containerd.sock",
        "--config-file=/etc/alt.json",
        "--tlsverify=false",
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
    assert parse_daemon_json(text) == {
        "icc": False,
        "ip": "127.0.0.1",
        "hosts": ["unix://", "tcp://0.0.0.0:2376"],
        "tlsverify": True,
    }


def test_resolve_applies_defaults_only_when_complete():
    assert resolve_daemon_settings({}, complete=False) == {}
    facts = resolve_daemon_settings({}, complete=True, version=(20, 10, 24))
    assert facts == {
        "icc": True,
        "userland_proxy": True,
        "iptables": True,
        "ip6tables": False,
        "ipv6": False,
        "allow_direct_routing": False,
        "tcp_api_without_tls": False,
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
    tables = (
        '{"nftables": [{"metainfo": {"json_schema_version": 1}}, {"table": {"family": "%s", "name": "%s"}}]}'
    )
    assert parse_nft_ruleset(tables % ("inet", "firewalld")) == {"firewalld_table": True}
    assert parse_nft_ruleset(tables % ("ip", "firewalld")) == {"firewalld_table": False}
    assert parse_nft_ruleset('{"nftables": [3, {"table": null}]}') == {"firewalld_table": False}
    assert parse_nft_ruleset("{not json") == {"firewalld_table": None}
    assert parse_ufw_conf("# comment\nENABLED=yes\nLOGLEVEL=low\n") is True
    assert parse_ufw_conf('ENABLED="no"\n') is False
    assert parse_ufw_conf("") is None
    assert parse_server_version("20.10.24+dfsg1") == (20, 10, 24)
    assert parse_server_version("v27.1") == (27, 1, 0)
    assert parse_server_version("garbage") is parse_server_version(None) is None
