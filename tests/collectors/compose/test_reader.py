"""The compose reader: model fields, file/line origins, merging, extends, profiles, discovery,
and one-line ``file:line`` errors on invalid or hostile input.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from auditor.collectors.compose import ProjectSpec, collect_compose, load_project
from auditor.collectors.request import ComposeOptions
from auditor.model.errors import InputError
from auditor.model.records import Endpoint, Mount, Origin, PortBinding, SourceKind
from auditor.model.redact import REDACTED

FIXTURES = Path(__file__).parents[2] / "fixtures" / "compose"


def at(uri: str, line: int | None) -> Origin:
    return Origin(SourceKind.COMPOSE, uri, line)


def load(tmp_path: Path, text: str, name: str = "compose.yaml", **kw):
    (tmp_path / name).write_text(text)
    return load_project(ProjectSpec((tmp_path / name,), tmp_path), environ=kw.pop("environ", {}), **kw)


def error_of(tmp_path: Path, text: str, **kw) -> InputError:
    with pytest.raises(InputError) as err:
        load(tmp_path, text, **kw)
    return err.value


def by_service(snapshot):
    return {c.service: c for c in snapshot.containers}


# --- the model ----------------------------------------------------------------------------


def test_fixture_project_model() -> None:
    root = FIXTURES / "repo"
    spec = ProjectSpec((root / "shop" / "compose.yaml", root / "shop" / "compose.override.yaml"), root)
    snap = load_project(spec, environ={})
    assert snap.target.kind is SourceKind.COMPOSE
    assert (snap.target.name, snap.target.address) == ("shop", "shop/compose.yaml")
    assert snap.daemon.icc is None and snap.daemon.iptables is None
    assert "daemon iptables setting" in snap.not_checked
    assert snap.notes == ("merged files: shop/compose.yaml, shop/compose.override.yaml",)
    svc = by_service(snap)
    assert sorted(svc) == ["api", "db", "debug", "portainer", "web"]

    web = svc["web"]
    assert (web.name, web.project, web.image, web.kind) == ("web", "shop", "nginx:1.27", "service")
    assert web.origin == at("shop/compose.yaml", 4)
    assert web.network_mode == "shop_front"
    assert web.endpoints == (Endpoint("shop_front", origin=at("shop/compose.yaml", 9)),)
    assert web.ports == (
        PortBinding(80, "tcp", "", 80, origin=at("shop/compose.yaml", 7)),
        PortBinding(443, "tcp", "127.0.0.1", 8443, origin=at("shop/compose.yaml", 8)),
    )
    assert web.privileged is False and web.publish_all_ports is None

    api = svc["api"]
    assert api.ports == (PortBinding(9000, published=False, origin=at("shop/compose.yaml", 12)),)
    assert [e.network for e in api.endpoints] == ["shop_back", "shop_front"]
    assert api.endpoints[0].aliases == ("api.internal",)
    assert api.labels == (("com.example.api_token", REDACTED), ("com.example.team", "payments"))

    portainer = svc["portainer"]
    assert portainer.mounts == (
        Mount("shop_portainer-data", "/data", "volume", origin=at("shop/compose.yaml", 25)),
        Mount("/var/run/docker.sock", "/var/run/docker.sock", "bind", origin=at("shop/compose.yaml", 26)),
    )
    debug = svc["debug"]
    assert (debug.network_mode, debug.endpoints) == ("host", ())
    assert debug.network_mode_origin == at("shop/compose.override.yaml", 9)
    assert debug.origin == at("shop/compose.override.yaml", 6)

    nets = {n.name: n for n in snap.networks}
    assert sorted(nets) == ["shop_back", "shop_default", "shop_front"]  # portainer joins default
    assert nets["shop_back"].internal is True and nets["shop_front"].internal is False
    assert nets["shop_back"].origin == at("shop/compose.yaml", 30)
    assert nets["shop_back"].project == "shop"


def test_yaml_1_2_keeps_22_22_a_string(tmp_path: Path) -> None:
    snap = load(tmp_path, "services:\n  s:\n    image: x\n    ports:\n      - 22:22\n      - 1:1\n")
    assert [(p.host_port, p.container_port) for p in snap.containers[0].ports] == [(22, 22), (1, 1)]


def test_project_name_rules(tmp_path: Path) -> None:
    project = tmp_path / "My.Project_Dir"
    project.mkdir()
    assert load(project, "services: {}\n").target.name == "myproject_dir"
    assert load(project, "name: Web-Shop\nservices: {}\n").target.name == "web-shop"
    assert (
        load(project, "name: x\nservices: {}\n", environ={"COMPOSE_PROJECT_NAME": "fromenv"}).target.name
        == "fromenv"
    )
    (project / ".env").write_text("COMPOSE_PROJECT_NAME=dotenv\n")
    assert load(project, "services: {}\n").target.name == "dotenv"


def test_container_name_caps_privileged_and_network_modes(tmp_path: Path) -> None:
    snap = load(
        tmp_path,
        """services:
  a:
    image: x
    container_name: alpha
    privileged: true
    cap_add: [net_admin, CAP_SYS_TIME, NET_ADMIN]
    cap_drop: [ALL]
  b:
    image: x
    network_mode: bridge
  c:
    image: x
    network_mode: "service:a"
  d:
    image: x
    network_mode: "container:abc"
  e:
    image: x
    network_mode: none
""",
    )
    svc = by_service(snap)
    a = svc["a"]
    assert (a.name, a.privileged, a.cap_add, a.cap_drop) == (
        "alpha",
        True,
        ("NET_ADMIN", "SYS_TIME"),
        ("ALL",),
    )
    assert svc["b"].network_mode == "bridge"
    assert svc["b"].endpoints == (Endpoint("bridge", origin=at("compose.yaml", 10)),)
    assert svc["c"].joined_namespace == "a" and svc["c"].endpoints == ()
    assert svc["d"].network_mode == "container:abc"
    assert svc["e"].network_mode == "none"
    assert [n.name for n in snap.networks] == [f"{tmp_path.name.lower()}_default"]


def test_privileged_and_cap_add_entries_keep_their_lines(tmp_path: Path) -> None:
    snap = load(
        tmp_path,
        """services:
  vpn:
    image: x
    network_mode: host
    privileged: "yes"
    cap_add:
      - NET_ADMIN
      - SYS_MODULE
      - net_admin
  plain:
    image: x
""",
    )
    svc = by_service(snap)
    vpn = svc["vpn"]
    assert (vpn.privileged, vpn.privileged_origin) == (True, at("compose.yaml", 5))
    assert vpn.cap_add == ("NET_ADMIN", "SYS_MODULE")
    assert vpn.cap_add_origins == (at("compose.yaml", 7), at("compose.yaml", 8))
    assert (svc["plain"].privileged_origin, svc["plain"].cap_add_origins) == (None, ())


def test_volume_forms(tmp_path: Path) -> None:
    snap = load(
        tmp_path,
        """name: p
services:
  s:
    image: x
    volumes:
      - /anon
      - data:/d
      - ./rel:/r:ro
      - ~/home:/h:ro,z
      - ext:/e
      - type: bind
        source: /run/docker.sock
        target: /sock
        read_only: true
      - type: tmpfs
        target: /t
      - /dup:/d
volumes:
  data: {}
  ext: {external: true}
""",
    )
    mounts = {m.target: (m.source, m.type, m.read_only, m.origin.line) for m in snap.containers[0].mounts}
    assert mounts == {
        "/anon": ("", "volume", False, 6),
        "/d": ("/dup", "bind", False, 17),  # a later entry for the same target wins
        "/r": ("./rel", "bind", True, 8),
        "/h": ("~/home", "bind", True, 9),
        "/e": ("ext", "volume", False, 10),
        "/sock": ("/run/docker.sock", "bind", True, 11),
        "/t": ("", "tmpfs", False, 15),
    }


def test_interpolation_env_file_and_environment(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("IP=127.0.0.1\nPORT=1\n")
    (tmp_path / "other.env").write_text("IP=10.0.0.1\n")
    text = "services:\n  s:\n    image: x\n    ports: ['${IP}:${PORT:-9}:80']\n"
    port = load(tmp_path, text, environ={"PORT": "8080"}).containers[0].ports[0]
    assert (port.host_ip, port.host_port) == ("127.0.0.1", 8080)
    port = load(tmp_path, text, env_files=[str(tmp_path / "other.env")]).containers[0].ports[0]
    assert (port.host_ip, port.host_port) == ("10.0.0.1", 9)


def test_profiles_narrow_only_when_asked(tmp_path: Path) -> None:
    text = "services:\n  app: {image: x}\n  dbg: {image: x, profiles: [debug]}\n  ops: {image: x, profiles: [ops]}\n"
    assert [c.name for c in load(tmp_path, text).containers] == ["app", "dbg", "ops"]
    assert [c.name for c in load(tmp_path, text, profiles=["debug"]).containers] == ["app", "dbg"]


def test_extends_points_at_the_base_file_for_inherited_items(tmp_path: Path) -> None:
    (tmp_path / "base.yml").write_text("services:\n  tpl:\n    image: x\n    ports:\n      - '9000:9000'\n")
    snap = load(
        tmp_path,
        "services:\n  web:\n    extends: {file: base.yml, service: tpl}\n    ports: ['127.0.0.1:1:1']\n",
    )
    web = snap.containers[0]
    assert web.origin == at("compose.yaml", 2)
    assert [(p.host_port, p.origin) for p in web.ports] == [
        (9000, at("base.yml", 5)),
        (1, at("compose.yaml", 4)),
    ]


def test_merge_files_option_merges_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.yml").write_text("services:\n  s:\n    image: x\n    ports: ['80:80']\n")
    (tmp_path / "b.yml").write_text("services:\n  s:\n    image: y\n    ports: ['127.0.0.1:81:81']\n")
    monkeypatch.chdir(tmp_path)
    [item] = collect_compose([], ComposeOptions(merge_files=("a.yml", "b.yml")))
    s = item.snapshot.containers[0]
    assert s.image == "y"
    assert [(p.host_port, p.origin.uri, p.origin.line) for p in s.ports] == [
        (80, "a.yml", 4),
        (81, "b.yml", 4),
    ]


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("services:\n  s:\n    image: x\n   ports: [\n", 4, "YAML syntax error"),
        (
            "services:\n  s:\n    image: x\n    ports:\n      - '80:80'\n      - '1:2:3:4'\n",
            6,
            "invalid IP address",
        ),
        ("services:\n  s:\n    image: x\n    ports: 80\n", 4, "service s ports must be a list"),
        (
            "services:\n  s:\n    image: x\n    privileged: maybe\n",
            4,
            "service s privileged must be a boolean",
        ),
        ("services:\n  s:\n    extends: t\n  t:\n    extends: s\n", 3, "circular reference in extends"),
        ("services:\n  s:\n    image: x\n    image: y\n", 4, "mapping key 'image' already defined at line 3"),
        ("- just\n- a list\n", 1, "must be a mapping at the top level"),
        ("services:\n  s:\n    image: x\n    environment:\n", 4, "service s: environment must not be empty"),
        ("services:\n  s:\n    image: x\n    labels:\n", 4, "service s: labels must not be empty"),
    ],
)
def test_invalid_input_is_one_error_with_file_and_line(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    err = error_of(tmp_path, text)
    assert (err.path, err.line) == ("compose.yaml", line)
    assert message in str(err)
    assert str(err).startswith(f"compose.yaml:{line}: ")
    assert "\n" not in str(err)


def test_what_a_fragment_lacks_is_audited_and_listed(tmp_path: Path) -> None:
    """Compose refuses these for lack of context; the rest of the file is audited all the same."""
    snap = load(
        tmp_path,
        """services:
  s:
    networks: [proxy]
    ports: ["${P:?set P}:80", "8080:8080"]
    depends_on: [db]
    env_file: [missing.env, {path: optional.env, required: false}]
    volumes: ["data:/data", "/var/run/docker.sock:/var/run/docker.sock"]
    secrets: [token]
  j:
    image: x
    network_mode: service:ghost
""",
    )
    assert snap.incomplete == (
        "compose.yaml:4: required variable P is missing a value: set P",
        "compose.yaml:2: service s has neither an image nor a build context",
        "compose.yaml:5: service s depends on undefined service db",
        "compose.yaml:8: service s refers to undefined secret token",
        "compose.yaml:6: service s: env file missing.env not found",
        "compose.yaml:3: service s refers to undefined network proxy",
        "compose.yaml:7: service s refers to undefined volume data",
        "compose.yaml:11: service j: network_mode refers to undefined service ghost",
    )
    svc = by_service(snap)
    assert [m.source for m in svc["s"].mounts] == ["data", "/var/run/docker.sock"]
    assert [(p.host_port, p.container_port) for p in svc["s"].ports] == [(None, 80), (8080, 8080)]
    assert [n.name for n in snap.networks] == []  # the undefined network's settings are unknown


def test_alias_bomb_is_bounded(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 10)}]")
    lines.append("services:\n  s:\n    image: x\n    labels: *a8")
    err = error_of(tmp_path, "\n".join(lines) + "\n")
    assert "document too large after expanding aliases" in str(err)


def test_recursive_alias_is_bounded(tmp_path: Path) -> None:
    err = error_of(tmp_path, "x-loop: &x\n  - *x\nservices: {a: {image: x}}\n")
    assert str(err) == "compose.yaml:2: alias *x is used inside its own anchor (a cycle)"


def test_deep_nesting_is_bounded(tmp_path: Path) -> None:
    err = error_of(tmp_path, "x-deep: " + "[" * 100 + "]" * 100 + "\nservices: {}\n")
    assert "nested deeper than 64 levels" in str(err)


def test_huge_file_is_refused(tmp_path: Path) -> None:
    big = "services: {}\n" + "# padding\n" * 500_000
    err = error_of(tmp_path, big)
    assert "compose file is larger than the limit of 4194304 bytes" in str(err)


def test_empty_file(tmp_path: Path) -> None:
    assert str(error_of(tmp_path, "")) == "compose.yaml: empty compose file"


# --- discovery ----------------------------------------------------------------------------


def test_directory_discovery_skips_tool_folders(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(FIXTURES / "repo", root)
    (root / ".git" / "x").mkdir(parents=True)
    (root / ".git" / "x" / "compose.yaml").write_text("services: {hidden: {image: x}}\n")
    (root / "tools" / "loop").symlink_to(root, target_is_directory=True)
    items = collect_compose([root], ComposeOptions())
    assert [(i.target.name, i.target.address) for i in items] == [
        ("shop", "shop/compose.yaml"),
        ("tools", "tools/docker-compose.yml"),
    ]
    assert all(i.error is None for i in items)


def test_one_bad_project_does_not_hide_the_others() -> None:
    items = collect_compose([FIXTURES / "mixed"], ComposeOptions())
    assert [(i.target.address, i.snapshot is not None) for i in items] == [
        ("bad/compose.yaml", False),
        ("good/compose.yaml", True),
    ]
    assert str(items[0].error) == (
        "bad/compose.yaml:6: service app: invalid ranges: container 80-81 and host 8000 differ in length in '8000:80-81'"
    )


def test_saved_inspect_json_found_by_name_is_read_as_inspect(tmp_path: Path) -> None:
    inspect = FIXTURES.parent / "inspect" / "containers.json"
    (tmp_path / "compose.yml").write_text(inspect.read_text())
    [item] = collect_compose([tmp_path], ComposeOptions())
    assert item.target.kind is SourceKind.SNAPSHOT
    assert item.snapshot is not None and item.snapshot.containers


def test_compose_file_written_as_json_is_compose(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "stack.json").write_text('{"services": {"a": {"image": "x", "ports": ["8080:80"]}}}')
    monkeypatch.chdir(tmp_path)
    from auditor.collectors.sources import collect_paths

    [item] = collect_paths(["stack.json"], ComposeOptions())
    assert item.target.kind is SourceKind.COMPOSE
    assert item.snapshot.containers[0].ports[0].origin == at("stack.json", 1)


def test_file_argument_outside_cwd_keeps_its_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "compose.yaml").write_text("services: {a: {image: x}}\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    [item] = collect_compose([Path(os.path.relpath(tmp_path / "compose.yaml"))], ComposeOptions())
    assert item.target.address == "../compose.yaml"


def test_empty_directory_is_an_input_error(tmp_path: Path) -> None:
    [item] = collect_compose([tmp_path], ComposeOptions())
    assert item.snapshot is None and "no compose files found" in str(item.error)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "wrong.json",
            '{"foo": 1, "bar": [1, 2, 3]}',
            "wrong.json:1: unknown top-level key 'foo': expected a compose file (services, networks, volumes, secrets, "
            "configs, include, name, version, models), `docker inspect` output or an auditor snapshot",
        ),
        (
            "empty.json",
            "{}",
            "empty.json:1: empty compose file (expected services, or `docker inspect` output)",
        ),
        (
            "compose.yaml",
            "services: {a: {image: x}}\nserivces: {}\n",
            "compose.yaml:2: unknown top-level key 'serivces': expected a compose file (services, networks, volumes, "
            "secrets, configs, include, name, version, models), `docker inspect` output or an auditor snapshot",
        ),
    ],
)
def test_unrecognised_input_is_an_input_error_saying_what_was_expected(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    """A gate pointed at the wrong file must not pass (exit 2), as compose refuses it too."""
    import subprocess
    import sys

    (tmp_path / name).write_text(text)
    proc = subprocess.run(
        [sys.executable, "-m", "auditor", "scan", name, "-q"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (proc.returncode, proc.stderr.strip()) == (2, f"auditor: error: {message}")


def test_a_dangling_dot_env_link_is_no_env_file(tmp_path: Path) -> None:
    """Compose reads the project as if there were no .env (seen in a public project whose .env
    links to a generated config file)."""
    os.symlink("generated.conf", tmp_path / ".env")
    snap = load(tmp_path, "services:\n  a:\n    image: x\n")
    assert snap.incomplete == () and [c.service for c in snap.containers] == ["a"]
