"""deploy/: the files people schedule scans with, validated as far as this machine allows.

The GET-only proxy config is run for real (haproxy in front of the real engine): a scan works
through it, anything that writes or leaks is refused. systemd units pass systemd-analyze, the
Kubernetes and Swarm files parse and keep the Docker socket away from the scanner.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML
from support.readonly_haproxy import PROXY_CFG, readonly_haproxy, tool

from auditor.commands.scan import scan_command

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
PROXY_SOCKET = "/run/auditor-proxy/docker.sock"


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str):
        super().__init__("localhost", timeout=30)
        self.unix_path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.unix_path)


def request(path: str, method: str, url: str) -> tuple[int, bytes]:
    conn = UnixHTTPConnection(path)
    try:
        conn.request(method, url)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@pytest.fixture
def readonly_proxy(tmp_path, docker_client):
    """haproxy with deploy/haproxy/docker-readonly.cfg, on a private socket, in front of dockerd."""
    with readonly_haproxy(tmp_path / "docker.sock") as sock:
        yield sock


@pytest.mark.engine
def test_a_scan_works_through_the_read_only_proxy(readonly_proxy, engine_objects):
    c = engine_objects.container("viaproxy", ports={"6379/tcp": ("0.0.0.0", 0)})
    result = CliRunner().invoke(scan_command, ["--engine", f"unix://{readonly_proxy}", "-f", "json",
                                               "--fail-on", "none"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert [t["status"] for t in report["targets"]] == ["complete"]
    assert "PORT001" in {f["rule_id"] for f in report["findings"] if f["resource"]["name"] == c.name}
    status, body = request(readonly_proxy, "GET", f"/v1.41/events?since=0&until={int(time.time())}"
                                                  "&filters=%7B%22type%22%3A%5B%22network%22%5D%7D")
    assert status == 200  # what `auditor watch` reads


@pytest.mark.engine
def test_the_read_only_proxy_refuses_writes_and_leaks(readonly_proxy, engine_objects):
    c = engine_objects.container("guarded")
    refused = [
        ("POST", "/v1.41/containers/create?name=audt-should-not-exist"),
        ("POST", f"/v1.41/containers/{c.id}/stop"),
        ("DELETE", f"/v1.41/containers/{c.id}?force=1"),
        ("POST", f"/v1.41/containers/{c.id}/exec"),
        ("GET", f"/v1.41/containers/{c.id}/logs?stdout=1"),
        ("GET", f"/v1.41/containers/{c.id}/archive?path=/etc"),
        ("GET", "/v1.41/secrets"),
        ("GET", "/v1.41/images/json"),
        ("POST", "/v1.41/networks/create"),
    ]
    for method, url in refused:
        status, _ = request(readonly_proxy, method, url)
        assert status == 403, (method, url, status)
    c.reload()
    assert c.status == "running"
    assert request(readonly_proxy, "GET", f"/v1.41/containers/{c.id}/json")[0] == 200
    assert request(readonly_proxy, "GET", "/_ping")[0] == 200


def test_systemd_units_pass_systemd_analyze(tmp_path):
    analyze = tool("systemd-analyze")
    tool("haproxy")
    auditor = shutil.which("auditor") or str(Path(os.sys.executable).with_name("auditor"))
    for unit in (DEPLOY / "systemd").glob("*.[st][ei]*"):
        text = unit.read_text().replace("/usr/local/bin/auditor", auditor)
        (tmp_path / unit.name).write_text(text)
    units = sorted(str(p) for p in tmp_path.iterdir())
    assert [Path(u).name for u in units] == ["auditor-docker-proxy.service", "auditor-scan.service",
                                             "auditor-scan.timer"]
    done = subprocess.run([analyze, "verify", *units], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    scan = (DEPLOY / "systemd" / "auditor-scan.service").read_text()
    assert f"DOCKER_HOST=unix://{PROXY_SOCKET}" in scan
    assert "docker" not in re.findall(r"^(?:Group|SupplementaryGroups)=(.*)$", scan, re.M)
    proxy = (DEPLOY / "systemd" / "auditor-docker-proxy.service").read_text()
    assert f"AUDITOR_PROXY_SOCKET={PROXY_SOCKET}" in proxy and "docker-readonly.cfg" in proxy


def test_cron_line_runs_the_scanner_through_the_proxy():
    lines = [ln for ln in (DEPLOY / "cron" / "auditor.cron").read_text().splitlines()
             if ln.strip() and not ln.startswith("#") and "=" not in ln.split()[0]]
    assert len(lines) == 1
    fields = lines[0].split()
    minute, hour, dom, month, dow, user = fields[:6]
    for value in (minute, hour, dom, month, dow):
        assert re.fullmatch(r"(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*", value), value
    assert user == "auditor"
    assert fields[6] == f"DOCKER_HOST=unix://{PROXY_SOCKET}" and fields[7] == "auditor" and fields[8] == "scan"


def _yaml_docs(path: Path) -> list:
    return [d for d in YAML(typ="safe").load_all(path.read_text()) if d]


def test_kubernetes_cronjob_gives_the_scanner_only_the_proxy_socket():
    docs = _yaml_docs(DEPLOY / "kubernetes" / "cronjob.yaml")
    by_kind = {d["kind"]: d for d in docs}
    assert set(by_kind) == {"ConfigMap", "CronJob"}
    cfg = by_kind["ConfigMap"]["data"]["docker-readonly.cfg"]
    expected = "".join(ln for ln in PROXY_CFG.read_text().splitlines(True) if not ln.startswith("#"))
    assert cfg == expected  # the same GET-only rules as the tested proxy config
    job = by_kind["CronJob"]["spec"]
    assert len(job["schedule"].split()) == 5
    pod = job["jobTemplate"]["spec"]["template"]["spec"]
    (sidecar,) = pod["initContainers"]
    (scanner,) = pod["containers"]
    assert sidecar["restartPolicy"] == "Always"
    sock_volume = next(v["name"] for v in pod["volumes"] if v.get("hostPath", {}).get("path") == "/var/run/docker.sock")
    assert sock_volume in {m["name"] for m in sidecar["volumeMounts"]}
    assert sock_volume not in {m["name"] for m in scanner["volumeMounts"]}
    env = {e["name"]: e.get("value") for e in scanner["env"]}
    assert env["DOCKER_HOST"] == f"unix://{PROXY_SOCKET}"
    assert scanner["securityContext"]["runAsNonRoot"] is True
    assert scanner["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert scanner["args"][0] == "scan" and "--store" in scanner["args"]


def test_swarm_stack_is_global_and_keeps_the_socket_in_the_proxy():
    (stack,) = _yaml_docs(DEPLOY / "swarm" / "stack.yml")
    services = stack["services"]
    assert {s["deploy"]["mode"] for s in services.values()} == {"global"}
    assert "/var/run/docker.sock:/var/run/docker.sock" in services["docker-proxy"]["volumes"]
    assert not any("docker.sock:" in v for v in services["auditor"]["volumes"])
    assert services["auditor"]["environment"]["DOCKER_HOST"] == f"unix://{PROXY_SOCKET}"
    assert services["auditor"]["command"][0] == "watch"
    assert stack["configs"]["docker_readonly_cfg"]["file"] == "../haproxy/docker-readonly.cfg"
    docker = shutil.which("docker")
    if docker:  # the Docker CLI validates and interpolates a stack file offline
        done = subprocess.run([docker, "stack", "config", "-c", str(DEPLOY / "swarm" / "stack.yml")],
                              capture_output=True, text=True, timeout=60,
                              env={**os.environ, "AUDITOR_STORE": "postgresql://db.example/auditor"})
        assert done.returncode == 0, done.stderr
        assert "AUDITOR_STORE: postgresql://db.example/auditor" in done.stdout
