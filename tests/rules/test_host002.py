"""HOST002: the Docker socket mounted into a container."""

from __future__ import annotations

from auditor.rules.host002_docker_socket import RULE
from support.builders import container, mount, run_rule, snapshot


def test_socket_mount_fires_even_read_only():
    c = container("agent", mounts=[mount("/var/run/docker.sock", read_only=True)])
    [f] = run_rule(RULE, snapshot(c))
    assert (f.rule_id, f.resource.name) == ("HOST002", "agent")
    assert f.message == (
        "agent mounts the engine socket /var/run/docker.sock at /var/run/docker.sock "
        "(read-only does not restrict API calls)."
    )


def test_socket_directory_and_other_paths():
    c = container("x", mounts=[mount("/run", "/host-run"), mount("/srv/podman/podman.sock", "/s")])
    assert sorted(f.message for f in run_rule(RULE, snapshot(c))) == [
        "x mounts the directory holding the engine socket /run at /host-run.",
        "x mounts the engine socket /srv/podman/podman.sock at /s.",
    ]


def test_ordinary_mounts_are_silent():
    c = container("x", mounts=[mount("/srv/data", "/data"), mount("dbdata", "/var/lib/db", type="volume")])
    assert run_rule(RULE, snapshot(c)) == []
