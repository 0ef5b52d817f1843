"""Discovery of compose files by name, as projects of their own or merged after their base,
and the command-line options that complete a fragment (--set, --env-file, profiles)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from auditor.collectors.compose.discover import discover

IMAGE_SVC = "services:\n  {name}:\n    image: example/{name}:1\n    ports: ['{port}:{port}']\n"


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def scan(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "auditor", "scan", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=environ,
        timeout=120,
    )


def layout(root: Path) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    found = discover(root)
    return [(tuple(f.relative_to(root).as_posix() for f in p.files), p.notes) for p in found.projects]


def test_a_directory_with_only_named_variants_is_audited(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "docker-compose.postgres.yml": IMAGE_SVC.format(name="db", port=5432),
            "docker-compose.sqlite.yml": IMAGE_SVC.format(name="app", port=8000),
        },
    )
    assert layout(tmp_path) == [(("docker-compose.postgres.yml",), ()), (("docker-compose.sqlite.yml",), ())]
    proc = scan(".", "-f", "json", "--fail-on", "none", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert [(t["address"], t["status"]) for t in report["targets"]] == [
        ("docker-compose.postgres.yml", "complete"),
        ("docker-compose.sqlite.yml", "complete"),
    ]
    assert {f["resource"]["name"] for f in report["findings"]} == {"db", "app"}


def test_an_overlay_variant_is_merged_after_its_base(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "docker-compose.yml": IMAGE_SVC.format(name="web", port=8080),
            "docker-compose.override.yml": "services:\n  web:\n    environment: {A: '1'}\n",
            "docker-compose.prod.yml": "services:\n  web:\n    volumes: ['/var/run/docker.sock:/var/run/docker.sock']\n",
            "compose.base.yml": IMAGE_SVC.format(name="proxy", port=80),
            "compose.base.override.yml": "services:\n  proxy:\n    network_mode: host\n",
        },
    )
    assert layout(tmp_path) == [
        (("docker-compose.yml", "docker-compose.override.yml"), ()),
        (
            ("compose.base.yml", "compose.base.override.yml"),
            (
                "compose.base.override.yml merged after compose.base.yml, as `compose -f compose.base.yml -f "
                "compose.base.override.yml` would read it: service proxy has neither image nor build",
            ),
        ),
        (("compose.base.yml",), ()),
        (
            ("docker-compose.yml", "docker-compose.prod.yml"),
            (
                "docker-compose.prod.yml merged after docker-compose.yml, as `compose -f docker-compose.yml -f "
                "docker-compose.prod.yml` would read it: service web has neither image nor build",
            ),
        ),
    ]


def test_included_and_extended_files_are_part_of_their_project(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "compose.yaml": "include: [compose_db.yaml]\nservices:\n  web:\n    extends: {file: compose-common.yml, service: base}\n",
            "compose_db.yaml": IMAGE_SVC.format(name="db", port=5432),
            "compose-common.yml": IMAGE_SVC.format(name="base", port=80),
        },
    )
    found = discover(tmp_path)
    assert [p.files for p in found.projects] == [(tmp_path / "compose.yaml",)]
    assert sorted((p.name, r) for p, r in found.skipped) == [
        ("compose-common.yml", "pulled in by compose.yaml (audited as part of it)"),
        ("compose_db.yaml", "pulled in by compose.yaml (audited as part of it)"),
    ]
    assert found.projects[0].notes == (
        "compose-common.yml not audited on its own: pulled in by compose.yaml (audited as part of it)",
        "compose_db.yaml not audited on its own: pulled in by compose.yaml (audited as part of it)",
    )


def test_an_overlay_without_base_is_a_fragment_audited_and_incomplete(tmp_path: Path) -> None:
    """Compose refuses it alone; it still mounts the socket, so it is audited and exit 3."""
    write(
        tmp_path,
        {
            "docker-compose.dev.yml": (
                "services:\n  agent:\n    volumes: ['/var/run/docker.sock:/var/run/docker.sock']\n    networks: [proxy]\n"
            )
        },
    )
    proc = scan(".", "-f", "json", "--fail-on", "none", cwd=tmp_path)
    assert proc.returncode == 3, proc.stderr
    report = json.loads(proc.stdout)
    [target] = report["targets"]
    assert target["status"] == "incomplete"
    assert target["error"] == (
        "partial view: docker-compose.dev.yml:2: service agent has neither an image nor a build context; "
        "docker-compose.dev.yml:4: service agent refers to undefined network proxy"
    )
    assert [(f["rule_id"], f["location"]["line"]) for f in report["findings"]] == [("HOST002", 3)]
    assert proc.stderr.splitlines() == [
        "auditor: incomplete: docker-compose.dev.yml:2: service agent has neither an image nor a build context",
        "auditor: incomplete: docker-compose.dev.yml:4: service agent refers to undefined network proxy",
    ]


def test_set_completes_a_fragment_and_unset_variables_are_warned(tmp_path: Path) -> None:
    write(
        tmp_path,
        {"compose.yaml": "services:\n  web:\n    image: example/${TAG}\n    ports: ['${PORT:?PORT}:80']\n"},
    )
    proc = scan(".", "-f", "json", "--fail-on", "none", cwd=tmp_path)
    assert proc.returncode == 3
    assert (
        "auditor: warning: compose.yaml: variable TAG is not set: compose substitutes a blank string"
        in proc.stderr
    )
    proc = scan(
        ".", "-f", "json", "--fail-on", "none", "--set", "PORT=8080", "--set", "TAG=web:1", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    report = json.loads(proc.stdout)
    assert report["targets"][0]["notes"] == []
    assert [f["evidence"]["binding"] for f in report["findings"]] == ["*:8080->80/tcp"]
    proc = scan(".", "--set", "not a name", cwd=tmp_path)
    assert (proc.returncode, proc.stderr.strip()) == (
        2,
        "auditor: error: --set needs VAR=VALUE with a variable name, not 'not a name'",
    )


def test_unset_variable_warning_is_a_target_note(tmp_path: Path) -> None:
    write(tmp_path, {"compose.yaml": "services:\n  web:\n    image: example/${TAG}\n"})
    report = json.loads(scan(".", "-f", "json", cwd=tmp_path).stdout)
    assert report["targets"][0]["notes"] == ["variable TAG is not set: compose substitutes a blank string"]
    assert report["targets"][0]["status"] == "complete"


def test_compose_profiles_from_dot_env_and_all_profiles(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "compose.yaml": (
                "services:\n  app: {image: x/app, ports: ['80:80']}\n"
                "  debug: {image: x/debug, profiles: [debug], ports: ['5678:5678']}\n"
                "  tools: {image: x/tools, profiles: [tools], ports: ['9999:9999']}\n"
            ),
            ".env": "COMPOSE_PROFILES=debug\n",
        },
    )

    def services(*args: str) -> set[str]:
        proc = scan(".", "-f", "json", "--fail-on", "none", *args, cwd=tmp_path)
        return {
            f["resource"]["name"]
            for f in json.loads(proc.stdout)["findings"]
            if f["resource"]["kind"] == "service"
        }

    assert services() == {"app", "debug"}
    assert services("--profile", "tools") == {"app", "tools"}
    assert services("--all-profiles") == {"app", "debug", "tools"}
