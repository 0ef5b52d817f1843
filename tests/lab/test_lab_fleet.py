"""A fleet scan (``--hosts-file``) of three lab engines from a laptop on the lab LAN: f1 through
its unix socket, f2 over TCP with TLS (the lab's throwaway CA, per-host options in the hosts
file), f3 through a socket whose dockerd is stopped mid-scan (killed when the scanner, having
read and inspected its containers, asks for its first network). Exit 3, every healthy engine's
findings, and the stopped one named with what was read before it went away."""

from __future__ import annotations

import json
import re
import signal
import sys

import pytest
from support.lab import EngineConfig, Lab, Outcome, TcpApi
from support.proxies import DockerProxy, Fault, Reply

from .scanning import CLI_TIMEOUT

pytestmark = [pytest.mark.lab, pytest.mark.engine]


class StopEngineAtNetworks(Fault):
    """Kills the engine's dockerd when the first network inspect arrives; from then on every
    network inspect loses its connection, as with the daemon gone."""

    name = "engine stopped mid-scan"

    def __init__(self, lab: Lab, engine: str) -> None:
        super().__init__()
        self.lab, self.engine = lab, engine
        self.stopped = False

    def before(self, request):
        if request.method != "GET" or not re.match(r"^/networks/[^/?]+", request.path):
            return None
        if not self.stopped:
            process = self.lab.engines[self.engine].process
            process.send_signal(signal.SIGKILL)
            process.wait(10)
            self.stopped = True
        self._hit()
        return Reply(0, drop=True)


@pytest.fixture(scope="module")
def fleet_lab(lab_ready, test_image):
    engines = [EngineConfig("f1"), EngineConfig("f2", tcp=TcpApi(port=2376, tls=True)), EngineConfig("f3")]
    with Lab(engines, outside=["laptop"], image_source=lab_ready) as lab:
        yield lab


def test_fleet_with_a_tls_engine_and_one_stopped_mid_scan(fleet_lab, tmp_path):
    lab = fleet_lab
    names = {}
    for name, engine in lab.engines.items():
        container = engine.client.containers.run(
            lab.image,
            "nc -ll -p 6379 -e echo redis",
            detach=True,
            name=f"cache-{name}",
            ports={"6379/tcp": 16379},
        )
        names[name] = container.name
        assert lab.wait_probe("laptop", engine.lan_ip, 16379).outcome is Outcome.OPEN
    f1, f2, f3 = (lab.engines[n] for n in ("f1", "f2", "f3"))
    stop = StopEngineAtNetworks(lab, "f3")
    with DockerProxy(faults=(stop,), upstream=str(f3.socket)) as proxy:
        hosts = tmp_path / "fleet.txt"
        hosts.write_text(
            f"# three lab engines, one over TLS\n{f1.url}  f1\n{f2.tcp_url}  f2  cert-dir={f2.tls.client_dir}\n"
            f"{proxy.url}  f3  # stopped mid-scan\n"
        )
        argv = [
            sys.executable,
            "-m",
            "auditor",
            "scan",
            "--hosts-file",
            str(hosts),
            "-f",
            "json",
            "--fail-on",
            "none",
        ]
        proc = lab.run("laptop", argv, check=False, timeout=CLI_TIMEOUT)
    assert proc.returncode == 3, proc.stderr
    assert (stop.stopped, f3.process.poll()) == (True, -signal.SIGKILL)
    report = json.loads(proc.stdout)
    targets = {t["name"]: t for t in report["targets"]}
    assert [(t["name"], t["address"], t["status"]) for t in report["targets"]] == [
        ("f1", f1.url, "complete"),
        ("f2", f2.tcp_url, "complete"),
        ("f3", proxy.url, "incomplete"),
    ]
    assert targets["f3"]["error"] == (
        f"the Docker engine at {proxy.url} closed the connection mid-scan (was it restarted?) "
        "(stopped after inspecting 1 of 1 containers)"
    )
    assert (
        targets["f1"]["not_checked"] == targets["f2"]["not_checked"] == []
    )  # f2's daemon found over TCP too
    exposed = {
        f["resource"]["host"]: f["resource"]["name"]
        for f in report["findings"]
        if f["rule_id"] == "PORT002" and f["evidence"]["binding"] == "0.0.0.0:16379->6379/tcp"
    }
    assert exposed == {"f1": names["f1"], "f2": names["f2"], "f3": names["f3"]}  # f3: what was read
    assert report["scan"]["complete"] is False and report["gate"]["verdict"] == "incomplete"
    count = {n: sum(1 for f in report["findings"] if f["resource"]["host"] == n) for n in targets}
    assert count["f1"] == count["f2"] > count["f3"] > 0  # alike engines; f3 without its networks
    status = [line for line in proc.stderr.splitlines() if line.startswith("auditor: host ")]
    assert status == [
        f"auditor: host f1 ({f1.url}): complete, 1 containers, 3 networks, {count['f1']} open findings",
        f"auditor: host f2 ({f2.tcp_url}): complete, 1 containers, 3 networks, {count['f2']} open findings",
        f"auditor: host f3 ({proxy.url}): incomplete, 1 containers, 0 networks, {count['f3']} open findings",
    ]
    errors = [line for line in proc.stderr.splitlines() if line.startswith("auditor: error: ")]
    assert len(errors) == 1 and errors[0].endswith(targets["f3"]["error"])
