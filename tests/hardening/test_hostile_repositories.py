"""A scanned repository must not hang, exhaust, write or draw on the scanner (issue 18).

Every case is a small repository (or saved JSON) generated here, one or more per class of the
issue: files it names, quadratic rules, its own config, terminal injection, memory inside the
caps, bad numbers and nesting, accepted nonsense, and the small ones. Each runs through the
real CLI with stdout and stderr on terminals of their own (ptys, ``TERM=dumb`` so no styling
sequence is expected) and must:

- end in a result or in one clean error line, with the expected exit code and message;
- stay within 5 s of CPU and 300 MB (``run_on_terminal``; wall time is bounded too);
- put no raw control character (ESC, CR, BEL, other C0/C1, DEL) and no bidi or line-separator
  character on either terminal: only line feeds and the pty's CR before them;
- write nothing outside the outputs it names;
- echo none of its planted secrets.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hardening.harness import record, run_on_terminal, tree_state

ESC_PAYLOAD = "\x1b]0;PWNED\x07\x1b[2J\x1b[31m\rX\u202e\u2066\x9b\x7f"
SERVICE = "services:\n  web:\n    image: nginx\n    ports: ['8080:80']\n"
UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


@dataclass
class Case:
    group: str  # the class
    name: str
    build: Callable[[Path, Path], list[str]]  # (repo, out) -> argv; the CLI runs in ``repo``
    codes: tuple[int, ...]
    error: str | None = None  # the one error line, when the case ends in one (a substring)
    outputs: tuple[str, ...] = ()  # files below ``out`` the case names
    secrets: tuple[str, ...] = ()  # must appear in no output and on no terminal
    stdout_has: str | None = None
    env: dict[str, str] = field(default_factory=dict)


def _write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def _json(path: Path, doc: object) -> Path:
    return _write(path, json.dumps(doc))


def _container(name: str, ports: object = None, **host_config: object) -> dict:
    return {
        "Id": f"{abs(hash(name))}",
        "Name": f"/{name}",
        "Config": {"Image": "nginx", "Labels": {}},
        "State": {"Status": "created", "Running": False},
        "HostConfig": {"PortBindings": ports if ports is not None else {}, **host_config},
        "NetworkSettings": {"Networks": {"app": {}}},
    }


def _snapshot(containers: list[dict], networks: list[dict] | None = None, **extra: object) -> dict:
    return {
        "format": "auditor-snapshot",
        "version": 1,
        "target": {"name": "saved", "address": "x"},
        "containers": containers,
        "networks": networks or [{"Name": "app", "Id": "app", "Driver": "bridge"}],
        **extra,
    }


# 1. Files the repository names ------------------------------------------------------------


def _env_file_zero(repo: Path, out: Path) -> list[str]:
    (repo / "zero.env").symlink_to("/dev/zero")
    _write(repo / "sub.yaml", "services:\n  db:\n    image: postgres\n")
    _write(repo / "compose.yaml", f"include:\n  - path: sub.yaml\n    env_file: zero.env\n{SERVICE}")
    return ["scan", "."]


def _fifo_compose(repo: Path, out: Path) -> list[str]:
    os.mkfifo(repo / "compose.yaml")
    return ["scan", "compose.yaml"]


# 2. Quadratic rules ---------------------------------------------------------------------------


def _full_range(repo: Path, out: Path) -> list[str]:
    _write(
        repo / "compose.yaml",
        "services:\n  web:\n    image: nginx\n    ports: ['1-65535:1-65535']\n"
        "  api:\n    image: nginx\n    ports: ['8080:80']\n",
    )
    return ["scan", "--fail-on", "none", "-f", "json", "."]


def _inspect_65535_ports(repo: Path, out: Path) -> list[str]:
    ports = {f"{p}/tcp": [{"HostIp": "", "HostPort": str(p)}] for p in range(1, 65536)}
    _json(
        repo / "inspect.json",
        [_container("big", ports), _container("other", {"80/tcp": [{"HostPort": "80"}]})],
    )
    return ["scan", "--fail-on", "none", "-f", "json", "inspect.json"]


def _ten_thousand_on_one_network(repo: Path, out: Path) -> list[str]:
    containers = [_container(f"c{i}", {"80/tcp": [{"HostIp": "", "HostPort": "80"}]}) for i in range(10_000)]
    _json(repo / "snapshot.json", _snapshot(containers))
    return ["scan", "--fail-on", "none", "-o", str(out / "scan.md"), "snapshot.json"]


# 3. The repository's config -----------------------------------------------------------------


def _config_writes_outside(repo: Path, out: Path) -> list[str]:
    _write(repo / "compose.yaml", SERVICE)
    _write(repo / ".auditor.toml", f'outputs = ["{out.parent}/run.sh"]\n')
    return ["scan", "."]


# 4. Terminal injection ------------------------------------------------------------------------


def _hostile_names(repo: Path, out: Path) -> list[str]:
    text = (
        f"name: demo\nservices:\n  {json.dumps('web' + ESC_PAYLOAD)}:\n    image: {json.dumps('img' + ESC_PAYLOAD)}\n"
        f"    ports: ['8080:80']\n    networks: [{json.dumps('net' + ESC_PAYLOAD)}]\n"
        f"networks:\n  {json.dumps('net' + ESC_PAYLOAD)}: {{}}\n"
    )
    _write(repo / "compose.yaml", text)
    return [
        "scan",
        "--fail-on",
        "none",
        "-o",
        str(out / "r.sarif"),
        "-o",
        str(out / "r.md"),
        "-o",
        str(out / "r.xml"),
        "-o",
        str(out / "r.html"),
        ".",
    ]


def _hostile_directory(repo: Path, out: Path) -> list[str]:
    _write(repo / f"proj{ESC_PAYLOAD}" / "compose.yaml", SERVICE)
    return ["scan", "--fail-on", "none", "."]


def _hostile_waiver(repo: Path, out: Path) -> list[str]:
    _write(repo / "compose.yaml", SERVICE)
    _write(
        repo / ".auditor-waivers.yaml",
        f"- rule: PORT001\n  match: {{service: web}}\n  reason: {json.dumps('why' + ESC_PAYLOAD)}\n"
        f"  owner: {json.dumps('me' + ESC_PAYLOAD)}\n  expires: 2020-01-01\n",
    )
    return ["scan", "--fail-on", "none", "."]


def _hostile_error_line(repo: Path, out: Path) -> list[str]:
    _write(
        repo / "compose.yaml",
        f"services:\n  {json.dumps('web' + ESC_PAYLOAD)}:\n    image: nginx\n    ports: ['99999:80']\n",
    )
    return ["scan", "."]


def _hostile_engine_name(repo: Path, out: Path) -> list[str]:
    name = "eng" + ESC_PAYLOAD.replace("\r", "")  # a hosts file is read line by line: CR ends one
    _write(
        repo / "hosts.txt", f"unix:///nonexistent/docker.sock {name}\nunix:///nonexistent/other.sock other\n"
    )
    return ["scan", "--timeout", "0.5", "--hosts-file", "hosts.txt"]


# 5. Memory inside the caps ------------------------------------------------------------------


def _waiver_alias_bomb(repo: Path, out: Path) -> list[str]:
    entry = "- &w\n  rule: PORT001\n  match: {service: web}\n  reason: r\n  owner: o\n  expires: 2031-01-01\n"
    _write(repo / "w.yaml", entry + "- *w\n" * 100_000)  # 500 KiB: just under the byte cap
    _write(repo / "compose.yaml", SERVICE)
    return ["scan", "--waivers", "w.yaml", "."]


def _tiny_json_values(repo: Path, out: Path) -> list[str]:
    _write(repo / "snapshot.json", b"[" + b"{}," * 3_000_000 + b"{}]")
    return ["scan", "snapshot.json"]


def _range_bomb(repo: Path, out: Path) -> list[str]:
    services = "".join(
        f"  s{i}:\n    image: nginx\n    ports: ['10.0.0.{i + 1}:1-65535:1-65535']\n" for i in range(8)
    )
    _write(repo / "compose.yaml", "services:\n" + services)  # 400 bytes asking for 524,280 bindings
    return ["scan", "."]


def _many_env_lines(repo: Path, out: Path) -> list[str]:
    _write(repo / ".env", "".join(f"V{i}=x\n" for i in range(110_000)))  # just under 1 MiB, the env cap
    _write(repo / "compose.yaml", SERVICE)
    return ["scan", "--fail-on", "none", "."]


def _many_toml_values(repo: Path, out: Path) -> list[str]:
    _write(repo / "compose.yaml", SERVICE)
    _write(repo / "mine.toml", "disable-rules = [" + '"PORT001",' * 90_000 + '"PORT001"]\n')  # ~1 MiB
    return ["scan", "--fail-on", "none", "--config", "mine.toml", "."]


# 6. Bad numbers and nesting -----------------------------------------------------------------

BIG = "9" * 5000


def _big_number_compose(repo: Path, out: Path) -> list[str]:
    _write(repo / "compose.yaml", f"services:\n  web:\n    image: nginx\n    mem_limit: {BIG}\n")
    return ["scan", "."]


def _big_number_inspect(repo: Path, out: Path) -> list[str]:
    _write(
        repo / "inspect.json",
        '[{"Id": "x", "Name": "/w", "Config": {},\n "HostConfig": {"Privileged": ' + BIG + "}}]",
    )
    return ["scan", "inspect.json"]


def _big_number_waivers(repo: Path, out: Path) -> list[str]:
    _write(repo / "compose.yaml", SERVICE)
    _write(
        repo / "w.yaml",
        f"- rule: PORT001\n  match: {{port: {BIG}}}\n  reason: r\n  owner: o\n  expires: 2031-01-01\n",
    )
    return ["scan", "--waivers", "w.yaml", "."]


def _big_number_toml(repo: Path, out: Path) -> list[str]:
    _write(repo / "compose.yaml", SERVICE)
    _write(repo / ".auditor.toml", f"# settings\nfail_on = {BIG}\n")
    return ["scan", "."]


def _big_number_baseline(repo: Path, out: Path) -> list[str]:
    _write(repo / "compose.yaml", SERVICE)
    _write(repo / "base.json", '{"schema_version": "1.0",\n"findings": [' + BIG + "]}")
    return ["scan", "--baseline", "base.json", "."]


def _big_number_result(repo: Path, out: Path) -> list[str]:
    _write(repo / "result.json", '{"schema_version": "1.0",\n "scan": {"duration_s": ' + BIG + "}}")
    return ["report", "result.json", "-o", str(out / "r.html")]


def _deep_baseline(repo: Path, out: Path) -> list[str]:
    _write(repo / "compose.yaml", SERVICE)
    _write(repo / "base.json", "[" * 100_000 + "]" * 100_000)
    return ["scan", "--baseline", "base.json", "."]


def _deep_result(repo: Path, out: Path) -> list[str]:
    _write(repo / "result.json", '{"a": ' * 100_000 + "1" + "}" * 100_000)
    return ["diff", "result.json", "result.json"]


def _deep_toml(repo: Path, out: Path) -> list[str]:
    _write(repo / "compose.yaml", SERVICE)
    _write(repo / ".auditor.toml", "a = " + "[" * 50_000 + "]" * 50_000 + "\n")
    return ["scan", "."]


def _services_five(repo: Path, out: Path) -> list[str]:
    _json(repo / "snapshot.json", _snapshot([], services=[5]))
    return ["scan", "snapshot.json"]


# 7. Accepted nonsense -----------------------------------------------------------------------


def _inspect_with(bindings: object, **host_config: object) -> Callable[[Path, Path], list[str]]:
    def build(repo: Path, out: Path) -> list[str]:
        _json(repo / "inspect.json", [_container("web", bindings, **host_config)])
        return ["scan", "inspect.json"]

    return build


def _duplicate_key(repo: Path, out: Path) -> list[str]:
    _write(
        repo / "inspect.json",
        '[{"Id": "x", "Name": "/priv", "Config": {"Image": "nginx"},\n'
        ' "HostConfig": {"Privileged": true,\n "Privileged": false}}]',
    )
    return ["scan", "inspect.json"]


# 8. The small ones --------------------------------------------------------------------------


def _env_value_as_port(repo: Path, out: Path) -> list[str]:
    _write(repo / ".env", "DB_PASSWORD=hunter2-s3cret\n")
    _write(repo / "compose.yaml", "services:\n  web:\n    image: nginx\n    ports: ['${DB_PASSWORD}:80']\n")
    return ["scan", "-o", str(out / "r.json"), "--store", str(out / "history.sqlite3"), "."]


def _sarif_link(repo: Path, out: Path) -> list[str]:
    _write(
        repo / "compose.yaml",
        "services:\n  '[click](javascript:alert(1))':\n    image: nginx\n    ports: ['8080:80']\n",
    )
    return ["scan", "--fail-on", "none", "-o", str(out / "r.sarif"), "."]


def _bogus_format(repo: Path, out: Path) -> list[str]:
    _write(repo / "compose.yaml", SERVICE)
    return ["scan", "-o", f"bogus:{out}/r.json", "."]


def _same_output_twice(repo: Path, out: Path) -> list[str]:
    _write(repo / "compose.yaml", SERVICE)
    return ["scan", "-o", str(out / "r.json"), "-o", f"sarif:{out}/r.json", "."]


def _timeout_nan(repo: Path, out: Path) -> list[str]:
    return ["scan", "--timeout", "nan"]


def _waivers_dev_zero(repo: Path, out: Path) -> list[str]:
    _write(repo / "compose.yaml", SERVICE)
    return ["scan", "--waivers", "/dev/zero", "."]


LABEL_SECRETS = {
    "db_pwd": "plain-pwd-1",
    "mysql.root.pw": "plain-pw-2",
    "cache": "redis://:s3cret-redis@cache:6379",
    "db": "jdbc:mysql://db/app?user=a&password=s3cret-jdbc",
    "notify": "https://hooks.slack.com/services/T0/B0/s3cretslack",
    "errors": "https://0123456789abcdef0123456789abcdef@o1.ingest.sentry.io/1",
    "billing": "sk_live_s3cretstripe1234",
}


def _secret_labels(repo: Path, out: Path) -> list[str]:
    doc = _container("web", {"80/tcp": [{"HostPort": "8080"}]})
    doc["Config"]["Labels"] = LABEL_SECRETS
    _json(repo / "inspect.json", [doc])
    return [
        "scan",
        "--fail-on",
        "none",
        "-o",
        str(out / "r.json"),
        "-o",
        str(out / "r.html"),
        "-o",
        str(out / "r.sarif"),
        "inspect.json",
    ]


CASES = [
    Case("1 named files", "include env_file is /dev/zero", _env_file_zero, (2,), "env file is a device"),
    Case("1 named files", "compose file is a FIFO", _fifo_compose, (2,), "is a FIFO, not a regular file"),
    Case(
        "2 quadratic rules",
        "one entry 1-65535:1-65535 beside another service",
        _full_range,
        (0,),
        stdout_has="as *:1-65535->1-65535/tcp",
    ),
    Case(
        "2 quadratic rules",
        "inspect file with 65,535 ports",
        _inspect_65535_ports,
        (0,),
        stdout_has="65535 host ports 1-65535/tcp",
    ),
    Case(
        "2 quadratic rules",
        "10,000 containers on one network and one port",
        _ten_thousand_on_one_network,
        (0,),
        outputs=("scan.md",),
    ),
    Case(
        "3 repository config",
        "config writes outside the repository",
        _config_writes_outside,
        (2,),
        "outside the repository",
    ),
    Case(
        "4 terminal injection",
        "service, image and network names with ESC/OSC/CR/BEL/bidi",
        _hostile_names,
        (0,),
        outputs=("r.sarif", "r.md", "r.xml", "r.html"),
    ),
    Case("4 terminal injection", "directory name with ESC/OSC/CR/BEL/bidi", _hostile_directory, (0,)),
    Case("4 terminal injection", "expired waiver's reason and owner", _hostile_waiver, (0,)),
    Case(
        "4 terminal injection",
        "error line quoting a hostile service name",
        _hostile_error_line,
        (2,),
        "invalid host port '99999' in '99999:80'",
    ),
    Case("4 terminal injection", "fleet host name in the host status lines", _hostile_engine_name, (3,)),
    Case(
        "5 memory caps",
        "waivers: one waiver aliased 100,000 times",
        _waiver_alias_bomb,
        (2,),
        "aliases (limit 100)",
    ),
    Case(
        "5 memory caps",
        "compose of eight services publishing 1-65535 each",
        _range_bomb,
        (2,),
        "service s2: the project publishes more than 131,072 port bindings",
    ),
    Case(
        "5 memory caps", "JSON of 3,000,001 empty objects (9 MiB)", _tiny_json_values, (2,), "too many values"
    ),
    Case("5 memory caps", ".env of 110,000 lines", _many_env_lines, (0,)),
    Case("5 memory caps", "TOML list of 90,000 values", _many_toml_values, (0,)),
    Case(
        "6 numbers and nesting",
        "compose value of 5,000 digits",
        _big_number_compose,
        (2,),
        "compose.yaml:4: compose file holds a number of more than 4,300 digits",
    ),
    Case(
        "6 numbers and nesting",
        "inspect JSON value of 5,000 digits",
        _big_number_inspect,
        (2,),
        "inspect.json:2: JSON file holds a number of more than 4,300 digits",
    ),
    Case(
        "6 numbers and nesting",
        "waivers value of 5,000 digits",
        _big_number_waivers,
        (2,),
        "w.yaml:2: waivers file holds a number",
    ),
    Case(
        "6 numbers and nesting",
        "TOML config value of 5,000 digits",
        _big_number_toml,
        (2,),
        ".auditor.toml:2: config file holds a number",
    ),
    Case(
        "6 numbers and nesting",
        "baseline value of 5,000 digits",
        _big_number_baseline,
        (2,),
        "base.json:2: baseline file holds a number",
    ),
    Case(
        "6 numbers and nesting",
        "saved result value of 5,000 digits",
        _big_number_result,
        (2,),
        "result.json:2: JSON result holds a number",
    ),
    Case(
        "6 numbers and nesting",
        "baseline nested 100,000 deep",
        _deep_baseline,
        (2,),
        "base.json: baseline file",
    ),
    Case("6 numbers and nesting", "saved result nested 100,000 deep", _deep_result, (2,), "result.json: "),
    Case(
        "6 numbers and nesting",
        "TOML config nested 50,000 deep",
        _deep_toml,
        (2,),
        ".auditor.toml: malformed TOML: nested too deeply",
    ),
    Case(
        "6 numbers and nesting",
        "snapshot with services: [5]",
        _services_five,
        (2,),
        "snapshot.json: services[0] is a number, not an inspect document",
    ),
    Case(
        "7 accepted nonsense",
        "HostPort 99999",
        _inspect_with({"80/tcp": [{"HostPort": "99999"}]}),
        (2,),
        "HostConfig.PortBindings['80/tcp'][0].HostPort: host port '99999' is out of range",
    ),
    Case(
        "7 accepted nonsense",
        "reversed range 9000-1",
        _inspect_with({"80/tcp": [{"HostPort": "9000-1"}]}),
        (2,),
        "host port range '9000-1' runs backwards",
    ),
    Case(
        "7 accepted nonsense",
        "HostIp not-an-ip\\0",
        _inspect_with({"80/tcp": [{"HostIp": "not-an-ip\0", "HostPort": "80"}]}),
        (2,),
        "host address 'not-an-ip\\x00' is not an IP address",
    ),
    Case(
        "7 accepted nonsense",
        "PortBindings as a list",
        _inspect_with(["80:80"]),
        (3,),
        "HostConfig.PortBindings is a list, not an object",
    ),
    Case(
        "7 accepted nonsense",
        "a binding as a string",
        _inspect_with({"80/tcp": ["8080"]}),
        (3,),
        "HostConfig.PortBindings['80/tcp'][0] is a string, not an object",
    ),
    Case(
        "7 accepted nonsense",
        "Privileged as a string",
        _inspect_with({}, Privileged="true"),
        (3,),
        "HostConfig.Privileged is a string, not a boolean",
    ),
    Case(
        "7 accepted nonsense",
        "duplicate key hiding Privileged: true",
        _duplicate_key,
        (2,),
        "inspect.json:3: JSON file names the key 'Privileged' twice",
    ),
    Case(
        "8 small ones",
        ".env value used as a port",
        _env_value_as_port,
        (2,),
        "'${DB_PASSWORD}:80'",
        outputs=("r.json", "history.sqlite3"),
        secrets=("hunter2-s3cret",),
    ),
    Case(
        "8 small ones",
        "SARIF message with [text](javascript:...) from a name",
        _sarif_link,
        (0,),
        outputs=("r.sarif",),
    ),
    Case("8 small ones", "-o bogus:r.json", _bogus_format, (2,), "unknown format 'bogus'"),
    Case("8 small ones", "one output path twice", _same_output_twice, (2,), "is given twice"),
    Case("8 small ones", "--timeout nan", _timeout_nan, (2,), "'nan' is not a finite number"),
    Case(
        "8 small ones", "--waivers /dev/zero", _waivers_dev_zero, (2,), "/dev/zero: waivers file is a device"
    ),
    Case(
        "8 small ones",
        "credential labels of seven kinds",
        _secret_labels,
        (0,),
        outputs=("r.json", "r.html", "r.sarif"),
        secrets=tuple(LABEL_SECRETS.values()),
    ),
]


def _terminal_safe(text: str) -> list[str]:
    """Raw characters a terminal would act on: anything but LF and the CR a pty puts before it."""
    return sorted({repr(ch) for ch in UNSAFE.findall(text.replace("\r\n", "\n"))})


@pytest.mark.parametrize("case", CASES, ids=[f"{c.group[0]}-{c.name}" for c in CASES])
def test_hostile_repository(tmp_path: Path, case: Case) -> None:
    repo, out = tmp_path / "repo", tmp_path / "out"
    repo.mkdir()
    out.mkdir()
    argv = case.build(repo, out)
    before = tree_state(tmp_path)
    proc = run_on_terminal(*argv, cwd=repo, env={"TERM": "dumb", "NO_COLOR": "1", **case.env})

    assert proc.returncode in case.codes, proc.stderr
    assert not _terminal_safe(proc.stdout), _terminal_safe(proc.stdout)
    assert not _terminal_safe(proc.stderr), _terminal_safe(proc.stderr)
    # the one clear line: an error (exit 2) or, for a partial view (exit 3), what was unreadable
    errors = [
        line
        for line in proc.stderr.splitlines()
        if line.startswith(("auditor: error: ", "auditor: incomplete: "))
    ]
    if case.error is not None:
        assert len(errors) == 1 and case.error in errors[0], proc.stderr
    if case.stdout_has is not None:
        assert case.stdout_has in " ".join(proc.stdout.split()), proc.stdout[-2000:]

    after = tree_state(tmp_path)
    written = {path for path in after if after[path] != before.get(path)}
    allowed = {f"out/{name}" for name in case.outputs} | {"out"}
    assert written <= allowed | {p for p in written if p.startswith("out/history.sqlite3")}, written - allowed
    for name in case.outputs:
        text = (out / name).read_bytes().decode(errors="replace") if (out / name).exists() else ""
        for secret in case.secrets:
            assert secret not in text, f"{secret} in {name}"
        if name.endswith((".md", ".xml", ".sarif", ".html")):
            assert not re.search("[\x1b\x07\x9b\u202e\u2066]", text), (
                f"raw control or bidi character in {name}"
            )
    for secret in case.secrets:
        assert secret not in proc.stdout + proc.stderr
    record(
        "hostile repositories",
        f"{case.group}: {case.name}",
        f"exit {proc.returncode}" + (f": {errors[0].split(': ', 2)[-1][:90]}" if errors else ""),
        inputs=1,
    )


def test_sarif_link_syntax_is_escaped(tmp_path: Path) -> None:
    repo, out = tmp_path / "repo", tmp_path / "out"
    repo.mkdir()
    out.mkdir()
    run_on_terminal(*_sarif_link(repo, out), cwd=repo, env={"TERM": "dumb"})
    doc = json.loads((out / "r.sarif").read_text())
    texts = [r["message"]["text"] for r in doc["runs"][0]["results"]]
    assert texts and all(t.startswith("\\[click\\](javascript:alert(1))") for t in texts)


def test_terminal_with_colours_shows_only_the_tools_own_styling(tmp_path: Path) -> None:
    """On a colour terminal rich styles the table; every ESC on it must start a style (SGR)
    sequence of rich's, none can come from a name."""
    repo, out = tmp_path / "repo", tmp_path / "out"
    repo.mkdir()
    out.mkdir()
    proc = run_on_terminal(*_hostile_names(repo, out), cwd=repo, env={"TERM": "xterm-256color"})
    assert proc.returncode == 0, proc.stderr
    assert "\x1b[" in proc.stdout  # styled: the check below has something to hold
    unstyled = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout)
    assert not _terminal_safe(unstyled), _terminal_safe(unstyled)
    assert "PWNED" in unstyled and "\\x1b]0;PWNED\\x07" in unstyled.replace("\r\n", "").replace(" ", "")
