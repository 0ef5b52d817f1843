"""Hosts files with per-engine TLS: a fleet can mix plain sockets and TLS engines."""

from __future__ import annotations

import pytest

from auditor.collectors.endpoints import EngineSpec
from auditor.collectors.fleet import parse_hosts_file
from auditor.model.errors import InputError


def test_each_line_may_carry_its_own_tls_settings(tmp_path):
    hosts = tmp_path / "fleet" / "hosts"
    hosts.parent.mkdir()
    hosts.write_text(
        "unix:///var/run/docker.sock local\n"
        "tcp://198.18.0.13:2376 e3 tls-verify cert-dir=certs/e3   # ca.pem cert.pem key.pem\n"
        "tcp://198.18.0.14:2376 tlscacert=/pki/ca.pem tlscert=c.pem tlskey=k.pem\n"
        "tcp://198.18.0.15:2376 e5 cert-dir=/pki/e5 tlskey=/other/key.pem\n"
    )
    base = EngineSpec(timeout=7)
    folder = str(hosts.parent)
    assert parse_hosts_file(str(hosts), base) == [
        EngineSpec(url="unix:///var/run/docker.sock", timeout=7, name="local"),
        EngineSpec(
            url="tcp://198.18.0.13:2376",
            tls_verify=True,
            ca_cert=f"{folder}/certs/e3/ca.pem",
            client_cert=f"{folder}/certs/e3/cert.pem",
            client_key=f"{folder}/certs/e3/key.pem",
            timeout=7,
            name="e3",
        ),
        EngineSpec(
            url="tcp://198.18.0.14:2376",
            tls_verify=True,
            ca_cert="/pki/ca.pem",
            client_cert=f"{folder}/c.pem",
            client_key=f"{folder}/k.pem",
            timeout=7,
        ),
        EngineSpec(
            url="tcp://198.18.0.15:2376",
            tls_verify=True,
            ca_cert="/pki/e5/ca.pem",
            client_cert="/pki/e5/cert.pem",
            client_key="/other/key.pem",
            timeout=7,
            name="e5",
        ),
    ]


def test_a_lines_options_replace_the_command_lines_tls_and_lines_without_keep_it(tmp_path):
    hosts = tmp_path / "hosts"
    hosts.write_text("tcp://198.18.0.11:2376 a\ntcp://198.18.0.12:2376 b tls-verify\n")
    base = EngineSpec(
        tls_verify=True, ca_cert="/cli/ca.pem", client_cert="/cli/c.pem", client_key="/cli/k.pem"
    )
    a, b = parse_hosts_file(str(hosts), base)
    assert (a.tls_verify, a.ca_cert, a.client_cert, a.client_key) == (
        True,
        "/cli/ca.pem",
        "/cli/c.pem",
        "/cli/k.pem",
    )
    assert (b.tls_verify, b.ca_cert, b.client_cert, b.client_key) == (True, None, None, None)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("tcp://h:2376 e3 tls=yes", "unknown option 'tls=yes'"),
        ("tcp://h:2376 e3 cert-dir=", "unknown option 'cert-dir='"),
        ("tcp://h:2376 e3 tls-verify extra", "expected `URL [NAME] [tls-verify]"),
    ],
)
def test_bad_options_name_the_line(tmp_path, line, message):
    hosts = tmp_path / "hosts"
    hosts.write_text(f"unix:///ok.sock\n{line}\n")
    with pytest.raises(InputError) as caught:
        parse_hosts_file(str(hosts), EngineSpec())
    assert caught.value.path == str(hosts) and caught.value.line == 2
    assert message in str(caught.value)
