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
import sys
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
    result = CliRunner().invoke(
        scan_command, ["--engine", f"unix://{readonly_proxy}", "-f", "json", "--fail-on", "none"]
    )
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert [t["status"] for t in report["targets"]] == ["complete"]
    assert "PORT002" in {f["rule_id"] for f in report["findings"] if f["resource"]["name"] == c.name}
    status, body = request(
        readonly_proxy,
        "GET",
        f"/v1.41/events?since=0&until={int(time.time())}&filters=%7B%22type%22%3A%5B%22network%22%5D%7D",
    )
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
    assert [Path(u).name for u in units] == [
        "auditor-docker-proxy.service",
        "auditor-scan.service",
        "auditor-scan.timer",
    ]
    done = subprocess.run([analyze, "verify", *units], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    scan = (DEPLOY / "systemd" / "auditor-scan.service").read_text()
    assert f"DOCKER_HOST=unix://{PROXY_SOCKET}" in scan
    assert "docker" not in re.findall(r"^(?:Group|SupplementaryGroups)=(.*)$", scan, re.M)
    proxy = (DEPLOY / "systemd" / "auditor-docker-proxy.service").read_text()
    assert f"AUDITOR_PROXY_SOCKET={PROXY_SOCKET}" in proxy and "docker-readonly.cfg" in proxy


def test_cron_line_runs_the_scanner_through_the_proxy():
    lines = [
        ln
        for ln in (DEPLOY / "cron" / "auditor.cron").read_text().splitlines()
        if ln.strip() and not ln.startswith("#") and "=" not in ln.split()[0]
    ]
    assert len(lines) == 1
    fields = lines[0].split()
    minute, hour, dom, month, dow, user = fields[:6]
    for value in (minute, hour, dom, month, dow):
        assert re.fullmatch(r"(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*", value), value
    assert user == "auditor"
    assert (
        fields[6] == f"DOCKER_HOST=unix://{PROXY_SOCKET}" and fields[7] == "auditor" and fields[8] == "scan"
    )


def _yaml_docs(path: Path) -> list:
    return [d for d in YAML(typ="safe").load_all(path.read_text()) if d]


def _config_maps(docs: list) -> dict[str, dict]:
    return {d["metadata"]["name"]: d["data"] for d in docs if d["kind"] == "ConfigMap"}


def _check_config_maps(docs: list) -> None:
    maps = _config_maps(docs)
    assert set(maps) == {"auditor-docker-proxy", "auditor-waivers"}
    expected = "".join(ln for ln in PROXY_CFG.read_text().splitlines(True) if not ln.startswith("#"))
    assert maps["auditor-docker-proxy"]["docker-readonly.cfg"] == expected  # the tested GET-only rules


def _check_pod(pod: dict, sidecar: dict, scanner: dict) -> None:
    """The socket only in the proxy, the scanner non-root with the proxy's socket and the waivers."""
    sock_volume = next(
        v["name"] for v in pod["volumes"] if v.get("hostPath", {}).get("path") == "/var/run/docker.sock"
    )
    assert sock_volume in {m["name"] for m in sidecar["volumeMounts"]}
    assert sock_volume not in {m["name"] for m in scanner["volumeMounts"]}
    env = {e["name"]: e.get("value") for e in scanner["env"]}
    assert env["DOCKER_HOST"] == f"unix://{PROXY_SOCKET}"
    assert scanner["securityContext"]["runAsNonRoot"] is True
    assert scanner["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert scanner["image"] == "auditor:0.1.0"  # what scripts/build-image.sh builds
    assert "--store" in scanner["args"]
    waivers = scanner["args"][scanner["args"].index("--waivers") + 1]
    mount = next(m for m in scanner["volumeMounts"] if m["name"] == "waivers")
    assert waivers == f"{mount['mountPath']}/waivers.yaml"
    assert {"name": "waivers", "configMap": {"name": "auditor-waivers"}} in pod["volumes"]


def test_kubernetes_cronjob_gives_the_scanner_only_the_proxy_socket():
    docs = _yaml_docs(DEPLOY / "kubernetes" / "cronjob.yaml")
    by_kind = {d["kind"]: d for d in docs}
    assert set(by_kind) == {"ConfigMap", "CronJob"}
    _check_config_maps(docs)
    job = by_kind["CronJob"]["spec"]
    assert len(job["schedule"].split()) == 5
    pod = job["jobTemplate"]["spec"]["template"]["spec"]
    (sidecar,) = pod["initContainers"]
    (scanner,) = pod["containers"]
    assert sidecar["restartPolicy"] == "Always"
    _check_pod(pod, sidecar, scanner)
    assert scanner["args"][0] == "scan"


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
        done = subprocess.run(
            [docker, "stack", "config", "-c", str(DEPLOY / "swarm" / "stack.yml")],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "AUDITOR_STORE": "postgresql://db.example/auditor"},
        )
        assert done.returncode == 0, done.stderr
        assert "AUDITOR_STORE: postgresql://db.example/auditor" in done.stdout


def test_kubernetes_daemonset_scans_every_node_into_one_history():
    docs = _yaml_docs(DEPLOY / "kubernetes" / "daemonset.yaml")
    assert [d["kind"] for d in docs] == ["ConfigMap", "ConfigMap", "DaemonSet"]
    _check_config_maps(docs)
    assert _config_maps(docs) == _config_maps(_yaml_docs(DEPLOY / "kubernetes" / "cronjob.yaml"))
    ds = docs[-1]["spec"]
    pod = ds["template"]["spec"]
    assert ds["selector"]["matchLabels"] == ds["template"]["metadata"]["labels"]
    assert pod["tolerations"] == [{"operator": "Exists"}]  # every node, tainted ones too
    assert "nodeSelector" not in pod
    sidecar, scanner = pod["containers"]
    assert (sidecar["name"], scanner["name"]) == ("docker-proxy", "auditor")
    _check_pod(pod, sidecar, scanner)
    assert scanner["args"][:2] == ["watch", "--format"]
    store = next(e for e in scanner["env"] if e["name"] == "AUDITOR_STORE")
    assert store["valueFrom"] == {"secretKeyRef": {"name": "auditor-store", "key": "url"}}


def _stack_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "AUDITOR_STORE")}
    return {**env, "AUDITOR_STORE": "postgresql://db.example/auditor"}


def test_swarm_stack_passes_its_own_default_gate_with_the_proxy_waived_in_place(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "auditor", "scan", str(DEPLOY / "swarm" / "stack.yml"), "-f", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        env=_stack_env(),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr  # the default gate: --fail-on high
    report = json.loads(proc.stdout)
    (host002,) = [f for f in report["findings"] if f["rule_id"] == "HOST002"]
    assert (host002["resource"]["name"], host002["status"]) == ("docker-proxy", "waived")
    assert host002["waiver"]["state"] == "inline"
    assert host002["waiver"]["reason"].startswith("GET-only haproxy (deploy/haproxy/docker-readonly.cfg)")
    assert not [
        f for f in report["findings"] if f["status"] == "open" and f["severity"] in ("critical", "high")
    ]


def _waivers_of(manifest: str, directory: Path) -> Path:
    path = directory / "waivers.yaml"
    path.write_text(
        _config_maps(_yaml_docs(DEPLOY / "kubernetes" / manifest))["auditor-waivers"]["waivers.yaml"]
    )
    return path


def _proxy_like_container(docker_client, test_image, name: str, labels: dict[str, str]):
    """A container shaped like the deployments' proxy: the Docker socket mounted, nothing else."""
    from support.engine import labels as test_labels

    return docker_client.containers.run(
        test_image,
        ["sleep", "300"],
        name=name,
        detach=True,
        labels={**test_labels(), **labels},
        network_mode="none",
        volumes={"/var/run/docker.sock": {"bind": "/var/run/docker.sock", "mode": "ro"}},
    )


@pytest.mark.engine
def test_kubernetes_deployments_pass_their_own_default_gate_with_the_reviewed_waiver(
    tmp_path, docker_client, test_image
):
    """The sidecar as cri-dockerd names it, read back from `docker inspect`, judged by the
    manifests' waiver on a day it is valid (the deployed scanner uses the real date: once it
    expires, the finding is open again and asks for a review)."""
    import datetime as dt

    from auditor.app.scan import AuditPlan, audit
    from auditor.audit.discovery import discover_rules
    from auditor.collectors.request import ScanRequest
    from auditor.model import exit_codes
    from auditor.policy.gate import GateFlags, resolve_gate

    name = f"k8s_docker-proxy_auditor-node-audt{os.getpid()}_auditor_0123_0"
    proxy = _proxy_like_container(
        docker_client, test_image, name, {"io.kubernetes.container.name": "docker-proxy"}
    )
    try:
        inspect = tmp_path / "node.json"
        inspect.write_text(json.dumps([docker_client.api.inspect_container(proxy.id)]))
    finally:
        proxy.remove(force=True)
    for manifest in ("cronjob.yaml", "daemonset.yaml"):
        rules = discover_rules()
        gate = resolve_gate(
            rules,
            GateFlags(waivers_path=str(_waivers_of(manifest, tmp_path))),
            today=dt.date(2027, 1, 15),
            cwd=tmp_path,
        )
        result = audit(ScanRequest(paths=(str(inspect),)), AuditPlan(gate.rules, gate.threshold, gate.policy))
        (host002,) = [f for f in result.findings if f.rule_id == "HOST002"]
        assert (host002.status, host002.waiver.owner, host002.waiver.expires) == (
            "waived",
            "platform-team",
            "2027-06-30",
        )
        assert exit_codes.for_result(result) == exit_codes.OK, manifest
        later = resolve_gate(
            rules,
            GateFlags(waivers_path=str(_waivers_of(manifest, tmp_path))),
            today=dt.date(2027, 7, 1),
            cwd=tmp_path,
        )
        expired = audit(
            ScanRequest(paths=(str(inspect),)), AuditPlan(later.rules, later.threshold, later.policy)
        )
        assert exit_codes.for_result(expired) == exit_codes.GATE_FAILED


@pytest.mark.engine
def test_the_swarm_proxy_label_waives_host002_on_the_live_engine(docker_client, test_image):
    (stack,) = _yaml_docs(DEPLOY / "swarm" / "stack.yml")
    label = stack["services"]["docker-proxy"]["labels"]
    proxy = _proxy_like_container(docker_client, test_image, f"audt-swarm-proxy-{os.getpid()}", label)
    try:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "auditor",
                "scan",
                "-f",
                "json",
                "--fail-on",
                "none",
                "--enable-rule",
                "HOST002",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            env={k: v for k, v in os.environ.items() if k != "AUDITOR_STORE"},
        )
    finally:
        proxy.remove(force=True)
    assert proc.returncode == 0, proc.stderr
    (ours,) = [f for f in json.loads(proc.stdout)["findings"] if f["resource"]["name"] == proxy.name]
    assert ours["status"] == "waived"
    assert ours["waiver"]["source"] == f"label io.auditor.ignore on container {proxy.name}"


@pytest.mark.engine
def test_history_shows_every_node_of_a_fleet(tmp_path, postgres_url):
    """What the DaemonSet does: each node's engine, under its own name, into one PostgreSQL store."""
    snapshot = json.loads(
        (Path(__file__).resolve().parents[2] / "auditor" / "examples" / "demo-snapshot.json").read_text()
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "AUDITOR_STORE")}
    for node in ("node-a", "node-b", "node-c"):
        snapshot["target"]["name"] = node
        path = tmp_path / f"{node}.json"
        path.write_text(json.dumps(snapshot))
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "auditor",
                "scan",
                str(path),
                "-f",
                "none",
                "--fail-on",
                "none",
                f"--store={postgres_url}",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
        assert proc.returncode == 0, proc.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "auditor", "history", f"--store={postgres_url}", "-f", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    rows = json.loads(proc.stdout)["scans"]
    assert sorted(r["target"]["name"] for r in rows) == ["node-a", "node-b", "node-c"]
    assert {r["target"]["kind"] for r in rows} == {"engine"}
    table = subprocess.run(
        [sys.executable, "-m", "auditor", "history", f"--store={postgres_url}"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    ).stdout
    assert [ln.split()[3] for ln in table.splitlines()[1:]] == ["node-c", "node-b", "node-a"]  # newest first
