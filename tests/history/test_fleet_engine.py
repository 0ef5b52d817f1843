"""Fleet scans on the real engine: the same dockerd through its unix socket and through a
TLS-terminating forwarder on 127.0.0.1, plus an unreachable engine, in one combined report."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from auditor.commands.history import history_command
from auditor.commands.scan import scan_command

from .conftest import free_port
from .forwarder import Forwarder, make_certs, server_context

pytestmark = pytest.mark.engine

SOCKET = "unix:///var/run/docker.sock"


@pytest.fixture(scope="module")
def tls_engine(tmp_path_factory):
    certs = make_certs(tmp_path_factory.mktemp("certs"))
    proxy = Forwarder(tls=server_context(certs)).start()
    yield proxy, certs
    proxy.close()


def tls_args(certs) -> list[str]:
    return [
        "--tls-verify",
        "--tlscacert",
        certs["ca"],
        "--tlscert",
        certs["client"],
        "--tlskey",
        certs["client-key"],
    ]


def findings_about(report: dict, name: str) -> dict[str, set[str]]:
    """host -> rule ids of findings about one container."""
    out: dict[str, set[str]] = {}
    for f in report["findings"]:
        if f["resource"]["name"] == name:
            out.setdefault(f["resource"]["host"], set()).add(f["rule_id"])
    return out


def test_fleet_from_engine_options_gives_one_report_and_exit_3(engine_objects, tls_engine):
    proxy, certs = tls_engine
    c = engine_objects.container("fleet", ports={"6379/tcp": ("0.0.0.0", free_port())})
    dead = f"tcp://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(
        scan_command,
        [
            "--engine",
            SOCKET,
            "--engine",
            proxy.url,
            "--engine",
            dead,
            *tls_args(certs),
            "-f",
            "json",
            "--fail-on",
            "none",
        ],
    )
    assert result.exit_code == 3, result.stderr
    report = json.loads(result.stdout)
    by_address = {t["address"]: t for t in report["targets"]}
    assert set(by_address) == {SOCKET, proxy.url, dead}
    assert by_address[SOCKET]["status"] == by_address[proxy.url]["status"] == "complete"
    assert by_address[dead]["status"] == "failed"
    assert (
        by_address[dead]["error"] == f"cannot reach the Docker engine at {dead}: nothing is listening there"
    )
    assert by_address[SOCKET]["containers"] > 0 and by_address[proxy.url]["containers"] > 0
    assert proxy.accepted > 0  # the TLS path really was used
    assert "PORT002" in findings_about(report, c.name)[by_address[SOCKET]["name"]]
    assert report["scan"]["complete"] is False and report["gate"]["verdict"] == "incomplete"
    assert f"auditor: host {dead}: failed: cannot reach" in result.stderr
    assert f"auditor: host {by_address[proxy.url]['name']} ({proxy.url}): complete" in result.stderr


def test_hosts_file_names_each_engine_and_the_store_keeps_every_host(
    engine_objects, tls_engine, tmp_path, store_url
):
    proxy, certs = tls_engine
    c = engine_objects.container("fleetn", ports={"6379/tcp": ("0.0.0.0", free_port())})
    dead = f"tcp://127.0.0.1:{free_port()}"
    hosts = tmp_path / "hosts"
    hosts.write_text(
        f"# fleet\n{SOCKET}  local\n{proxy.url} viatls   # same engine over TLS\n\n{dead} down\n"
    )
    result = CliRunner().invoke(
        scan_command,
        [
            "--hosts-file",
            str(hosts),
            *tls_args(certs),
            "-f",
            "json",
            "--fail-on",
            "none",
            f"--store={store_url}",
        ],
    )
    assert result.exit_code == 3, result.stderr
    report = json.loads(result.stdout)
    assert [(t["name"], t["status"]) for t in report["targets"]] == [
        ("local", "complete"),
        ("viatls", "complete"),
        ("down", "failed"),
    ]
    about = findings_about(report, c.name)
    assert set(about) == {"local", "viatls"}
    assert about["local"] == about["viatls"] and "PORT002" in about["local"]
    fingerprints = {f["fingerprint"] for f in report["findings"] if f["resource"]["name"] == c.name}
    assert len(fingerprints) == 2 * len(about["local"])  # the host name is part of the fingerprint

    listed = CliRunner().invoke(history_command, ["--store", store_url, "-f", "json"])
    assert listed.exit_code == 0, listed.stderr
    rows = json.loads(listed.stdout)["scans"]
    assert [(r["target"]["name"], r["target"]["status"]) for r in rows] == [
        ("local", "complete"),
        ("viatls", "complete"),
        ("down", "failed"),
    ]
    assert rows[2]["target"]["error"].startswith(f"cannot reach the Docker engine at {dead}")
