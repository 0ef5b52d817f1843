"""Property-based fuzzing of every parser: each input ends in a result or a clean error.

Inputs are mutations of the seed corpora in ``corpus/<parser>/`` (structure-aware: values,
keys and list items replaced with edge cases; and byte-level: cuts, splices, inserted
tokens) plus arbitrary documents. Whole-file parsers run the real pipeline from the file to
every reporter, so a crash anywhere between reading and rendering counts.

Brief by default (deterministic, for the test command); ``AUDITOR_FUZZ_EXAMPLES=N`` (see
``scripts/fuzz.sh``) runs N random inputs per parser.
"""

from __future__ import annotations

import copy
import io
import json
import tempfile
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from auditor.benchmarks.parsers import ToolOutputError, parse_connrate, parse_iperf3, parse_sockperf
from auditor.reports.formats import SCAN, registry
from hardening.harness import CORPUS, fuzz_settings, record
from hypothesis import given
from hypothesis import strategies as st

from auditor.audit.discovery import discover_rules
from auditor.audit.pipeline import PARTIAL_VIEW, scan
from auditor.collectors.request import ScanRequest
from auditor.model import exit_codes
from auditor.model.errors import InputError
from auditor.model.severity import Severity
from auditor.policy.baseline import parse_baseline
from auditor.policy.config import parse_config
from auditor.policy.waivers import parse_waivers

SCAN_FORMATS = registry().names(SCAN)

RULES = discover_rules()
RULE_IDS = tuple(r.id for r in RULES)


def seeds(kind: str) -> list[bytes]:
    files = sorted(p for p in (CORPUS / kind).iterdir() if p.is_file())
    assert files, f"no seeds in corpus/{kind}"
    return [p.read_bytes() for p in files]


# --- mutations ------------------------------------------------------------------------------
INTERESTING: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1,
    80,
    65535,
    65536,
    2**31,
    2**63,
    -(2**63),
    10**400,
    1e308,
    -0.0,
    0.5,
    "",
    " ",
    "0",
    "-1",
    "80",
    "80/tcp",
    "53/udp",
    "65536/tcp",
    "0/tcp",
    "x/tcp",
    "/tcp",
    "80/",
    "80-79",
    "1-65535",
    "8000-8010:80-90",
    "0.0.0.0",
    "::",
    "[::1]",
    "::1:6000:6000",
    "127.0.0.1::80",
    "256.1.1.1",
    "host",
    "none",
    "default",
    "bridge",
    "container:x",
    "service:x",
    "service:",
    "/var/run/docker.sock",
    "<script>alert(1)</script>",
    "\x00",
    "\ud7ff",
    "é",
    "💥",
    "${X}",
    "${X:?boom}",
    "${",
    "$$",
    "$",
    "!reset",
    "*a",
    "&a",
    "<<",
    "a" * 3000,
    "2099-12-31",
    "2020-02-30",
    "PORT001",
    "port001",
    "*",
    [],
    {},
    [None],
    [[]],
    {"": None},
    {"80/tcp": None},
    {"80/tcp": [{"HostIp": "", "HostPort": ""}]},
]
TOKENS = [
    b"\x00",
    b"\xff\xfe",
    b"{",
    b"}",
    b"[",
    b"]",
    b'"',
    b",",
    b":",
    b"- ",
    b"&a ",
    b"*a",
    b"<<: *a\n",
    b"!reset ",
    b"!override ",
    b"${",
    b"}",
    b"\n  ",
    b"\t",
    b"#",
    b"'",
    b"\\",
    b"1e999",
    b"-",
    b"= ",
    b"[[",
    b"]]",
    b'"""',
    b"\r\n",
    "💥".encode(),
]

json_leaf = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=12)
json_any = st.recursive(
    json_leaf,
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
    max_leaves=12,
)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.extend(_paths(v, (*prefix, i)))
    return out


def _set(root: Any, path: tuple, value: Any, delete: bool = False) -> Any:
    if not path:
        return value
    parent = root
    for step in path[:-1]:
        parent = parent[step]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return root


@st.composite
def mutated_tree(draw, trees: list[Any]) -> Any:
    """A seed document with a few nodes replaced, deleted, renamed or duplicated."""
    doc = copy.deepcopy(draw(st.sampled_from(trees)))
    for _ in range(draw(st.integers(1, 5))):
        path = draw(st.sampled_from(_paths(doc)))
        op = draw(st.sampled_from(["edge", "edge", "any", "delete", "rename", "dup"]))
        if op == "edge":
            doc = _set(doc, path, copy.deepcopy(draw(st.sampled_from(INTERESTING))))
        elif op == "any":
            doc = _set(doc, path, draw(json_any))
        elif path and op == "delete":
            doc = _set(doc, path, None, delete=True)
        elif path and op == "rename" and isinstance(path[-1], str):
            parent = doc
            for step in path[:-1]:
                parent = parent[step]
            new_key = draw(
                st.sampled_from([k for k in INTERESTING if isinstance(k, str)]) | st.text(max_size=8)
            )
            parent[new_key] = parent.pop(path[-1])
        elif path and op == "dup" and isinstance(path[-1], int):
            parent = doc
            for step in path[:-1]:
                parent = parent[step]
            parent.insert(path[-1], copy.deepcopy(parent[path[-1]]))
    return doc


@st.composite
def mutated_bytes(draw, blobs: list[bytes]) -> bytes:
    """A seed file cut, spliced, or with tokens inserted at random places."""
    data = bytearray(draw(st.sampled_from(blobs)))
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        pos = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["cut", "insert", "delete", "splice", "flip"]))
        if op == "cut":
            del data[pos:]
        elif op == "insert":
            data[pos:pos] = draw(st.sampled_from(TOKENS))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 64))]
        elif op == "splice":
            start = draw(st.integers(0, len(data)))
            data[pos:pos] = data[start : start + draw(st.integers(1, 200))]
        elif pos < len(data):
            data[pos] ^= 1 << draw(st.integers(0, 7))
    return bytes(data)


def _json_trees(kind: str) -> list[Any]:
    return [json.loads(b) for b in seeds(kind)]


def _yaml_trees(kind: str) -> list[Any]:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    trees = []
    for blob in seeds(kind):
        try:  # seeds with compose-only tags (!reset) are mutated as bytes only
            trees.append(json.loads(json.dumps(YAML(typ="safe", pure=True).load(blob), default=str)))
        except YAMLError:
            continue
    return trees


def _yaml_text(tree: Any) -> bytes:
    from ruamel.yaml import YAML

    buf = io.StringIO()
    YAML(typ="safe", pure=True).dump(tree, buf)
    return buf.getvalue().encode("utf-8", "surrogatepass")


def _toml_text(tree: Any) -> bytes:
    """A small TOML writer for mutated config trees (invalid TOML is fine: it must be rejected cleanly)."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)) and v is not None:
            return repr(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(i) for i in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{json.dumps(str(k))} = {value(i)}" for k, i in v.items()) + "}"
        return json.dumps(v if isinstance(v, str) else str(v))

    lines = []
    if isinstance(tree, dict):
        for k, v in tree.items():
            lines.append(f"{json.dumps(str(k))} = {value(v)}")
    else:
        lines.append(value(tree))
    return "\n".join(lines).encode("utf-8", "surrogatepass")


# --- the whole pipeline on one file ---------------------------------------------------------
class Workdir:
    """One private directory per fuzz test; every example overwrites the same files."""

    def __init__(self) -> None:
        self.tmp = tempfile.TemporaryDirectory(prefix="auditor-fuzz-")
        self.path = Path(self.tmp.name)
        self.outcomes: Counter[str] = Counter()

    def tally(self, run) -> None:
        """Count the outcome of one input; an unexpected exception is counted, then re-raised."""
        try:
            self.outcomes[run()] += 1
        except Exception:
            self.outcomes["crash"] += 1
            raise

    def write(self, name: str, data: bytes) -> Path:
        p = self.path / name
        p.write_bytes(data)
        return p


def scan_file(path: Path) -> str:
    """Scan one file through the real pipeline and every reporter; return the outcome class."""
    result = scan(ScanRequest(paths=(str(path),)), RULES, Severity.HIGH)
    assert not result.rule_errors, result.rule_errors  # a rule crashing on parsed input is a bug
    for t in result.targets:
        partial = t.status == "incomplete" and (t.error or "").startswith(PARTIAL_VIEW)  # a compose fragment
        assert t.status == "complete" or t.input_error or partial, (t.status, t.error)
        if t.error:
            assert "\n" not in t.error and "Traceback" not in t.error
    code = exit_codes.for_result(result)
    assert code in (exit_codes.OK, exit_codes.GATE_FAILED, exit_codes.INPUT_ERROR, exit_codes.INCOMPLETE)
    for fmt, render in ((name, registry().renderer(name, SCAN)) for name in SCAN_FORMATS):
        out = io.StringIO()
        render(result, out)
        assert out.getvalue(), f"{fmt} wrote nothing"
    return "input error (exit 2)" if code == exit_codes.INPUT_ERROR else "result"


def _finish(work: Workdir, parser: str) -> None:
    total = sum(work.outcomes.values())
    assert total > 0
    record("fuzzing", parser, _summary(work.outcomes), inputs=total)


def _summary(counts: Counter) -> str:
    text = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()) if k != "crash")
    crashes = counts.get("crash", 0)
    return text + (f", {crashes} crash (inputs while shrinking included)" if crashes else ", 0 crashes")


@pytest.fixture(scope="module")
def saved_work():
    work = Workdir()
    yield work
    _finish(work, "saved inspect JSON / snapshot files")


@fuzz_settings(60)
@given(
    data=st.one_of(
        mutated_tree(_json_trees("saved_json")).map(lambda d: json.dumps(d).encode()),
        mutated_bytes(seeds("saved_json")),
        json_any.map(lambda d: json.dumps(d).encode()),
    )
)
def test_fuzz_saved_json(saved_work, data):
    saved_work.tally(lambda: scan_file(saved_work.write("input.json", data)))


@pytest.fixture(scope="module")
def compose_work():
    work = Workdir()
    yield work
    _finish(work, "compose files (+ .env)")


ENV_SEEDS = [b"DB_PORT=5433\nTOKEN=abc\n", b"export A='x y'\nB=\"${A}z\"\n# c\n", b""]


@fuzz_settings(60)
@given(
    data=st.one_of(mutated_tree(_yaml_trees("compose")).map(_yaml_text), mutated_bytes(seeds("compose"))),
    env=st.none() | mutated_bytes(ENV_SEEDS),
)
def test_fuzz_compose(compose_work, data, env):
    env_file = compose_work.path / ".env"
    if env is None:
        env_file.unlink(missing_ok=True)
    else:
        env_file.write_bytes(env)
    compose_work.tally(lambda: scan_file(compose_work.write("compose.yaml", data)))


def _parse_outcome(work: Counter, parse, text: str, errors: tuple[type[Exception], ...]) -> None:
    try:
        parse(text)
    except errors as exc:
        assert str(exc).strip(), repr(exc)
        if isinstance(exc, InputError):  # our own messages are one line (tools' own may not be)
            assert "\n" not in str(exc), repr(exc)
        work["clean error"] += 1
    except Exception:
        work["crash"] += 1
        raise
    else:
        work["result"] += 1


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


class _Tally:
    counts: dict[str, Counter] = {}

    @classmethod
    def of(cls, name: str) -> Counter:
        return cls.counts.setdefault(name, Counter())


@pytest.fixture(scope="module", autouse=True)
def _record_tallies():
    yield
    for name, counts in _Tally.counts.items():
        if counts:
            record("fuzzing", name, _summary(counts), inputs=sum(counts.values()))
    _Tally.counts.clear()


@fuzz_settings(200)
@given(data=st.one_of(mutated_tree(_yaml_trees("waivers")).map(_yaml_text), mutated_bytes(seeds("waivers"))))
def test_fuzz_waivers(data):
    def parse(text: str) -> None:
        for w in parse_waivers(text, "waivers.yaml", RULE_IDS):
            assert w.rule in RULE_IDS and w.reason and w.owner

    _parse_outcome(_Tally.of("waiver files"), parse, _text(data), (InputError,))


@fuzz_settings(200)
@given(
    data=st.one_of(
        mutated_tree([tomllib.loads(b.decode()) for b in seeds("config")]).map(_toml_text),
        mutated_bytes(seeds("config")),
    )
)
def test_fuzz_config(data):
    _parse_outcome(
        _Tally.of("config files (.auditor.toml / pyproject)"),
        lambda t: parse_config(t, "auditor.toml", RULE_IDS),
        _text(data),
        (InputError,),
    )


@fuzz_settings(100)
@given(
    data=st.one_of(
        mutated_tree(
            _json_trees("saved_json")[:1]
            + [{"schema_version": "1.0", "findings": [{"fingerprint": "ab" * 16}, {"fingerprint": "cd"}]}]
        ),
        json_any,
    )
)
def test_fuzz_baseline(data):
    _parse_outcome(
        _Tally.of("baseline files"), lambda d: parse_baseline(d, "baseline.json"), data, (InputError,)
    )


HOSTS_SEEDS = [
    b"unix:///var/run/docker.sock local\n# comment\ntcp://10.0.0.5:2376 edge-1\n",
    b"ssh://ops@host1\n\n  tcp://[::1]:2375   v6 # trailing\n",
]


@pytest.fixture(scope="module")
def hosts_work():
    work = Workdir()
    yield work
    _finish(work, "fleet hosts files (--hosts-file)")


@fuzz_settings(200)
@given(data=mutated_bytes(HOSTS_SEEDS))
def test_fuzz_hosts_file(hosts_work, data):
    from auditor.collectors.endpoints import EngineSpec
    from auditor.collectors.fleet import parse_hosts_file

    def run() -> str:
        try:
            specs = parse_hosts_file(str(hosts_work.write("hosts.txt", data)), EngineSpec(timeout=3))
        except InputError as exc:
            assert "\n" not in str(exc)
            return "input error (exit 2)"
        assert specs and all(s.url and s.timeout == 3 for s in specs)
        return "result"

    hosts_work.tally(run)


@fuzz_settings(200)
@given(
    data=st.one_of(
        mutated_tree(_json_trees("iperf3")).map(lambda d: json.dumps(d).encode()),
        mutated_bytes(seeds("iperf3")),
    )
)
def test_fuzz_iperf3(data):
    _parse_outcome(_Tally.of("iperf3 -J output"), parse_iperf3, _text(data), (ToolOutputError,))


@fuzz_settings(200)
@given(data=mutated_bytes(seeds("sockperf")))
def test_fuzz_sockperf(data):
    _parse_outcome(_Tally.of("sockperf output"), parse_sockperf, _text(data), (ToolOutputError,))


@fuzz_settings(100)
@given(
    data=st.one_of(
        json_any.map(json.dumps),
        st.text(max_size=200),
        st.fixed_dictionaries({"connections": json_any, "seconds": json_any, "errors": json_any}).map(
            json.dumps
        ),
    )
)
def test_fuzz_connrate(data):
    _parse_outcome(_Tally.of("connection-rate output"), parse_connrate, data, (ToolOutputError,))


CLI_KINDS = ("saved_json", "compose", "waivers", "config")  # benchmark output has no CLI entry of its own


@pytest.mark.parametrize(
    "seed", sorted(str(p.relative_to(CORPUS)) for k in CLI_KINDS for p in (CORPUS / k).iterdir())
)
def test_corpus_through_cli(cli, seed):
    """Every seed through the real command line: a documented exit code, never a traceback."""
    path = CORPUS / seed
    kind = path.parent.name
    snapshot = str(CORPUS / "saved_json" / "snapshot.json")
    if kind in ("saved_json", "compose"):
        args = ("scan", str(path))
    elif kind == "waivers":
        args = ("scan", snapshot, "--waivers", str(path))
    else:
        args = ("scan", snapshot, "--config", str(path))
    proc = cli(*args, "-f", "json", "-q")
    assert proc.returncode in (0, 1, 2), proc.stderr
    if proc.returncode == 2:
        assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("auditor: error: "), proc.stderr
