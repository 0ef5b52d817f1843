"""The shared inspect normalizer on real ``docker inspect`` output captured from Docker 20.10."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditor.collectors.inspect import (
    daemon_facts_from_api,
    normalize_container,
    normalize_network,
    parse_port_key,
)
from auditor.model.errors import InputError
from auditor.model.records import SourceKind, Target
from auditor.model.redact import REDACTED

FIXTURES = Path(__file__).parent.parent / "fixtures" / "inspect"
TARGET = Target(SourceKind.ENGINE, "vm", "unix:///var/run/docker.sock")


def _containers():
    docs = json.loads((FIXTURES / "containers.json").read_text())
    return {c.name: c for c in (normalize_container(d, TARGET) for d in docs)}


def _bindings(container):
    return sorted(
        (p.container_port, p.protocol, p.host_ip, p.host_port, p.published) for p in container.ports
    )


def test_running_container_uses_actual_bindings_with_both_families():
    c = _containers()["fx-running"]
    assert _bindings(c) == [
        (80, "tcp", "0.0.0.0", 18080, True),
        (81, "udp", "127.0.0.1", 18081, True),
        (82, "tcp", "::", 18082, True),
        (90, "tcp", "0.0.0.0", 18090, True),
        (90, "tcp", "::", 18090, True),
        (91, "tcp", "0.0.0.0", 18091, True),
        (91, "tcp", "::", 18091, True),
        (9999, "tcp", "", None, False),
    ]
    assert c.network_mode == "fx-usernet"
    assert c.network_names == ("fx-usernet",)
    assert c.project == "shop" and c.service == "web"
    assert c.origin.uri == "docker://vm/containers/fx-running"


def test_stopped_container_falls_back_to_requested_bindings_and_publish_all():
    c = _containers()["fx-stopped"]
    assert c.state == "created"
    assert c.publish_all_ports is True
    assert c.privileged is True
    assert _bindings(c) == [
        (80, "tcp", "", 8080, True),
        (5432, "tcp", "127.0.0.1", None, True),
        (7000, "tcp", "", None, True),
    ]


def test_network_modes_host_and_joined_namespace():
    cs = _containers()
    assert cs["fx-hostnet"].uses_host_network
    assert cs["fx-hostnet"].cap_add == ("NET_ADMIN",)
    assert cs["fx-joined"].joined_namespace and cs["fx-joined"].network_mode.startswith("container:")
    assert cs["fx-default"].network_names == ("bridge",)


def test_socket_mount_read_only_is_seen():
    mounts = _containers()["fx-running"].mounts
    assert [(m.source, m.target, m.read_only) for m in mounts] == [
        ("/var/run/docker.sock", "/var/run/docker.sock", True)
    ]


def test_credential_labels_are_redacted_and_env_is_not_in_the_model():
    c = _containers()["fx-running"]
    assert c.label("db.password") == REDACTED
    assert "s3cr3t-env-value" not in repr(c)


def test_networks_and_default_bridge_facts():
    docs = json.loads((FIXTURES / "networks.json").read_text())
    nets = {n.name: n for n in (normalize_network(d, TARGET) for d in docs)}
    assert nets["bridge"].is_default_bridge
    assert nets["fx-usernet"].driver == "bridge" and not nets["fx-usernet"].is_default_bridge
    facts = daemon_facts_from_api({"Version": "20.10.24"}, {"Name": "vm", "Warnings": []}, nets.values())
    assert facts.icc is True
    assert facts.default_bind_ip == "0.0.0.0"
    assert facts.tcp_api_without_tls is False


def test_tcp_without_tls_warning_is_recognised():
    info = {"Warnings": ["WARNING: API is accessible on http://0.0.0.0:2375 without encryption."]}
    facts = daemon_facts_from_api({}, info)
    assert facts.tcp_api_without_tls is True
    assert facts.tcp_api_endpoints == ("http://0.0.0.0:2375",)


def test_without_api_facts_everything_is_unknown():
    facts = daemon_facts_from_api(None, None)
    assert facts.tcp_api_without_tls is None and facts.icc is None and facts.server_version is None


@pytest.mark.parametrize("key", ["http/tcp", "0/tcp", "70000/udp", ""])
def test_bad_port_keys_are_input_errors(key):
    with pytest.raises(InputError):
        parse_port_key(key)


def test_non_container_document_is_rejected():
    with pytest.raises(InputError):
        normalize_container({"Name": "x"}, TARGET)


def test_engine_chosen_host_ports_are_marked_ephemeral():
    cs = _containers()
    assert [(p.host_port, p.ephemeral) for p in cs["fx-default"].published_ports] == [
        (32771, True),
        (32771, True),
    ]
    assert {p.ephemeral for p in cs["fx-running"].published_ports} == {False}


def _doc(port_bindings=None, **host_config):
    return {
        "Id": "abc",
        "Name": "/web",
        "Config": {"Image": "nginx"},
        "HostConfig": {"PortBindings": port_bindings, **host_config},
    }


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            {"HostPort": "99999"},
            "HostConfig.PortBindings['80/tcp'][0].HostPort: host port '99999' is out of range (1-65535)",
        ),
        (
            {"HostPort": "9000-1"},
            "HostConfig.PortBindings['80/tcp'][0].HostPort: host port range '9000-1' runs backwards",
        ),
        (
            {"HostPort": "80", "HostIp": "not-an-ip\0"},
            "HostConfig.PortBindings['80/tcp'][0].HostIp: host address 'not-an-ip\\x00' is not an IP address",
        ),
        ({"HostPort": "8o"}, "HostConfig.PortBindings['80/tcp'][0].HostPort: invalid host port '8o'"),
        (
            {"HostPort": "9" * 5000},
            "HostConfig.PortBindings['80/tcp'][0].HostPort: invalid host port '" + "9" * 40 + "'",
        ),
        (
            {"HostPort": ["80"]},
            "HostConfig.PortBindings['80/tcp'][0].HostPort: host port is a list, not a string",
        ),
        (
            {"HostPort": "80", "HostIp": ["::"]},
            "HostConfig.PortBindings['80/tcp'][0].HostIp: host address is a list, not a string",
        ),
    ],
)
def test_impossible_port_values_are_input_errors_naming_the_field(entry, message):
    with pytest.raises(InputError) as info:
        normalize_container(_doc({"80/tcp": [entry]}), TARGET, "saved.json")
    assert str(info.value) == f"saved.json: container web: {message}"


def test_valid_ranges_ips_and_protocols_are_read():
    doc = _doc(
        {
            "80/tcp": [{"HostIp": "::1", "HostPort": "8000-8010"}],
            "53/udp": [{"HostIp": "", "HostPort": "0"}],
            "9/sctp": [{"HostIp": "fe80::1%eth0", "HostPort": 9}],
        }
    )
    ports = sorted(
        (p.container_port, p.protocol, p.host_ip, p.host_port, p.host_port_end)
        for p in normalize_container(doc, TARGET).ports
    )
    assert ports == [
        (9, "sctp", "fe80::1%eth0", 9, None),
        (53, "udp", "", None, None),
        (80, "tcp", "::1", 8000, 8010),
    ]


@pytest.mark.parametrize(
    ("doc", "problem"),
    [
        (_doc(["80:80"]), "container web: HostConfig.PortBindings is a list, not an object"),
        (
            _doc({"80/tcp": "8080"}),
            "container web: HostConfig.PortBindings['80/tcp'] is a string, not a list",
        ),
        (
            _doc({"80/tcp": ["8080"]}),
            "container web: HostConfig.PortBindings['80/tcp'][0] is a string, not an object",
        ),
        (_doc(Privileged="true"), "container web: HostConfig.Privileged is a string, not a boolean"),
        (_doc(CapAdd="NET_ADMIN"), "container web: HostConfig.CapAdd is a string, not a list"),
        (
            {**_doc(), "NetworkSettings": {"Ports": [["80", "8080"]]}, "State": {"Running": True}},
            "container web: NetworkSettings.Ports is a list, not an object",
        ),
    ],
)
def test_wrongly_typed_fields_are_recorded_not_guessed(doc, problem):
    """A partial view must never pass as a clean scan: the field is named, the target incomplete."""
    problems: list[str] = []
    normalize_container(doc, TARGET, None, problems)
    assert problems == [problem]


def test_null_fields_are_empty_not_wrong():
    problems: list[str] = []
    doc = _doc(None, CapAdd=None, CapDrop=None, Privileged=None)
    doc["NetworkSettings"] = {"Ports": None, "Networks": None}
    normalize_container(doc, TARGET, None, problems)
    assert problems == []


@pytest.mark.parametrize("key", ["80/evil", "80/tcp\x1b[2J", "0080x/tcp"])
def test_unknown_protocols_and_junk_port_keys_are_input_errors(key):
    with pytest.raises(InputError):
        parse_port_key(key)


def test_a_target_holds_a_bounded_number_of_port_bindings():
    """Each binding costs about 2 KB once it has findings; more than one container can publish
    (every port on both families) is refused before the rules run."""
    from auditor.collectors.raw import RawState, normalize_raw
    from auditor.model.inputs import MAX_PORT_BINDINGS

    every = {
        f"{p}/tcp": [{"HostIp": "0.0.0.0", "HostPort": str(p)}, {"HostIp": "::", "HostPort": str(p)}]
        for p in range(1, 65536)
    }
    one = {**_doc(every), "Name": "/a"}
    assert len(normalize_raw(RawState(TARGET, {}, {}, (one,), (), {})).containers[0].ports) == 131_070
    two = {
        **_doc({"1/udp": [{"HostPort": "1"}], "2/udp": [{"HostPort": "2"}], "3/udp": [{"HostPort": "3"}]}),
        "Name": "/b",
    }
    with pytest.raises(InputError, match=f"more than {MAX_PORT_BINDINGS:,} port bindings in one target"):
        normalize_raw(RawState(TARGET, {}, {}, (one, two), (), {}))
