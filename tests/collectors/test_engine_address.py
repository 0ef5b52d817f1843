"""Which engine a scan without --engine reads: DOCKER_HOST, then the docker context, then the socket."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import pytest

from auditor.collectors.endpoints import DEFAULT_SOCKET, EngineSpec


def _context(config_dir, name: str, host: str) -> None:
    meta = config_dir / "contexts" / "meta" / hashlib.sha256(name.encode()).hexdigest()
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(
        json.dumps(
            {"Name": name, "Metadata": {}, "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": False}}}
        )
    )


@pytest.fixture
def docker_config(tmp_path, monkeypatch):
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    return tmp_path


def test_without_config_the_standard_socket(docker_config):
    assert EngineSpec().address == DEFAULT_SOCKET


def test_current_context_is_followed(docker_config):
    _context(docker_config, "rootless", "unix:///run/user/1000/docker.sock")
    (docker_config / "config.json").write_text(json.dumps({"currentContext": "rootless"}))
    assert EngineSpec().address == "unix:///run/user/1000/docker.sock"


def test_docker_context_variable_and_docker_host_win(docker_config, monkeypatch):
    _context(docker_config, "remote", "ssh://ops@build-host")
    monkeypatch.setenv("DOCKER_CONTEXT", "remote")
    assert EngineSpec().address == "ssh://ops@build-host"
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:2376")
    assert EngineSpec().address == "tcp://127.0.0.1:2376"
    assert EngineSpec(url="unix:///x.sock").address == "unix:///x.sock"


def test_a_context_pointing_nowhere_is_an_incomplete_scan(docker_config):
    _context(docker_config, "gone", "unix:///nonexistent/ctx/docker.sock")
    (docker_config / "config.json").write_text(json.dumps({"currentContext": "gone"}))
    proc = subprocess.run(
        [sys.executable, "-m", "auditor", "scan"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 3
    assert "unix:///nonexistent/ctx/docker.sock" in proc.stderr
    assert "Traceback" not in proc.stderr
