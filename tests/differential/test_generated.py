"""Property-based differential tests: generated port specs and projects vs the real compose CLI.

Each example is one compose file holding many services (one CLI call per file keeps the run
short). ``PORT_BATCHES`` x at least ``SPECS_PER_BATCH`` specs gives well over 500 port specs.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.model.errors import InputError

from .oracle import cli_facts, our_facts, ours_or_error, run_cli

PORT_BATCHES = 30
SPECS_PER_BATCH = 24  # minimum per generated file: 12 services x 2 specs

ports = st.integers(min_value=1, max_value=65535)
IPS = ["127.0.0.1", "0.0.0.0", "10.1.2.3", "[::1]", "::1", "[::]", "[2001:db8::7]", "192.168.0.10"]


@st.composite
def short_spec(draw) -> str | int:
    """A valid short-syntax entry in any documented shape."""
    width = draw(st.sampled_from([0, 0, 0, 1, 2, 5]))
    start = draw(st.integers(min_value=1, max_value=65535 - width))
    container = str(start) if width == 0 else f"{start}-{start + width}"
    host_kind = draw(st.sampled_from(["none", "same", "single", "range", "empty", "zero"]))
    ip = draw(st.sampled_from(["", "", *IPS]))
    if host_kind == "none" and not ip:
        spec = container
        if width == 0 and draw(st.booleans()):
            return start  # a bare number: `- 8080`
    elif host_kind == "none" or host_kind == "empty":
        spec = f"{ip}::{container}" if ip else f":{container}"
        if not ip:
            spec = container
    else:
        if host_kind == "same":
            host = container
        elif host_kind == "zero":
            host = "0" if width == 0 else container
        elif host_kind == "single" or width == 0 and host_kind == "range" and draw(st.booleans()):
            if width:
                host_start = draw(st.integers(min_value=1, max_value=65535 - width))
                host = f"{host_start}-{host_start + width}"
            else:
                host = str(draw(ports))
        else:
            host_width = width or draw(st.integers(min_value=1, max_value=20))
            host_start = draw(st.integers(min_value=1, max_value=65535 - host_width))
            host = f"{host_start}-{host_start + host_width}"
        spec = f"{ip}:{host}:{container}" if ip else f"{host}:{container}"
    proto = draw(st.sampled_from(["", "", "", "/tcp", "/udp", "/sctp", "/UDP"]))
    return spec + proto


@st.composite
def long_spec(draw) -> dict:
    entry: dict = {"target": draw(st.one_of(ports, ports.map(str)))}
    published = draw(st.sampled_from(["none", "int", "str", "range"]))
    if published == "int":
        entry["published"] = draw(ports)
    elif published == "str":
        entry["published"] = str(draw(ports))
    elif published == "range":
        first = draw(st.integers(min_value=1, max_value=65000))
        entry["published"] = f"{first}-{first + draw(st.integers(min_value=0, max_value=50))}"
    if draw(st.booleans()):
        entry["host_ip"] = draw(st.sampled_from(["127.0.0.1", "0.0.0.0", "::1", "::", "10.0.0.1"]))
    if draw(st.booleans()):
        entry["protocol"] = draw(st.sampled_from(["tcp", "udp", "sctp"]))
    if draw(st.booleans()):
        entry["mode"] = draw(st.sampled_from(["ingress", "host"]))
    return entry


port_entry = st.one_of(short_spec(), short_spec(), short_spec(), long_spec())
expose_entry = st.one_of(
    ports,
    ports.map(str),
    st.tuples(
        st.integers(min_value=1, max_value=65000),
        st.integers(min_value=0, max_value=4),
        st.sampled_from(["", "/udp", "/tcp"]),
    ).map(lambda t: f"{t[0]}-{t[0] + t[1]}{t[2]}"),
)


@st.composite
def port_file(draw) -> dict:
    services = {}
    count = draw(st.integers(min_value=12, max_value=20))
    for i in range(count):
        svc: dict = {"image": "x", "ports": draw(st.lists(port_entry, min_size=2, max_size=5))}
        if draw(st.booleans()):
            svc["expose"] = draw(st.lists(expose_entry, min_size=1, max_size=3))
        services[f"s{i}"] = svc
    return {"services": services}


@st.composite
def network_file(draw) -> dict:
    """Projects exercising networks, network modes, names, externals and the default network."""
    keys = draw(
        st.lists(st.sampled_from(["front", "back", "db", "mgmt", "edge", "default"]), unique=True, max_size=5)
    )
    networks: dict = {}
    for key in keys:
        spec: dict = {}
        if draw(st.booleans()):
            spec["internal"] = draw(st.booleans())
        if draw(st.integers(min_value=0, max_value=4)) == 0:
            spec["external"] = True
        if draw(st.integers(min_value=0, max_value=3)) == 0:
            spec["name"] = f"real-{key}"
        if draw(st.booleans()) and not spec.get("external"):
            spec["driver"] = draw(st.sampled_from(["bridge", "overlay", "macvlan"]))
        if draw(st.integers(min_value=0, max_value=3)) == 0 and not spec.get("external"):
            spec["enable_ipv6"] = draw(st.booleans())
        if draw(st.integers(min_value=0, max_value=3)) == 0 and not spec.get("external"):
            spec["driver_opts"] = {
                "com.docker.network.bridge.enable_icc": draw(st.sampled_from(["true", "false"]))
            }
        networks[key] = spec
    services: dict = {}
    for i in range(draw(st.integers(min_value=1, max_value=8))):
        svc: dict = {"image": "x"}
        choice = draw(st.sampled_from(["nothing", "list", "map", "mode"]))
        usable = [k for k in keys] + ["default"]
        if choice == "list":
            svc["networks"] = draw(st.lists(st.sampled_from(usable), unique=True, min_size=1, max_size=3))
        elif choice == "map":
            chosen = draw(st.lists(st.sampled_from(usable), unique=True, min_size=1, max_size=3))
            svc["networks"] = {
                k: draw(
                    st.one_of(
                        st.none(),
                        st.builds(dict, aliases=st.just([f"a{i}"])),
                        st.builds(dict, priority=st.integers(0, 500)),
                    )
                )
                for k in chosen
            }
        elif choice == "mode":
            modes = ["host", "none", "bridge", "container:other"] + [f"service:s{j}" for j in range(i)]
            svc["network_mode"] = draw(st.sampled_from(modes))
        if draw(st.booleans()):
            svc["ports"] = [draw(short_spec())]
        services[f"s{i}"] = svc
    doc: dict = {"services": services}
    if networks:
        doc["networks"] = networks
    if draw(st.booleans()):
        doc["name"] = draw(st.sampled_from(["proj", "My Project", "-lead_dash", "x.y"]))
    return doc


def _compare(doc: dict) -> None:
    with tempfile.TemporaryDirectory(prefix="auditor-diff-") as tmp:
        directory = Path(tmp) / "gen"
        directory.mkdir()
        (directory / "compose.yaml").write_text(json.dumps(doc, indent=1))
        cli = run_cli(directory, ["compose.yaml"])
        ours = ours_or_error(directory, ["compose.yaml"])
        if not cli.ok:
            assert isinstance(ours, InputError), f"compose rejected, we accepted: {cli.stderr}"
            return
        assert not isinstance(ours, InputError), f"we rejected what compose accepts: {ours}"
        assert our_facts(ours) == cli_facts(cli.config)


@settings(
    max_examples=PORT_BATCHES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(port_file())
def test_generated_port_specs_match_compose(doc: dict) -> None:
    assert sum(len(s["ports"]) for s in doc["services"].values()) >= SPECS_PER_BATCH
    _compare(doc)


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(network_file())
def test_generated_networks_match_compose(doc: dict) -> None:
    _compare(doc)


def test_enough_specs_are_generated() -> None:
    assert PORT_BATCHES * SPECS_PER_BATCH >= 500


fuzzy_spec = st.text(alphabet="0123456789:-/[].abcdptu", min_size=1, max_size=18)


@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(fuzzy_spec, min_size=10, max_size=15, unique=True))
def test_fuzzed_port_strings_accepted_and_rejected_alike(specs: list[str]) -> None:
    """Near-miss strings: what we accept compose accepts (same bindings), what we reject it rejects."""
    from auditor.collectors.compose.ports import PortSpecError, parse_short

    accepted, rejected = [], []
    for spec in specs:
        try:
            parse_short(spec)
            accepted.append(spec)
        except PortSpecError:
            rejected.append(spec)
    if accepted:
        _compare({"services": {f"s{i}": {"image": "x", "ports": [s]} for i, s in enumerate(accepted)}})
    for spec in rejected[:3]:
        _compare({"services": {"s": {"image": "x", "ports": [spec]}}})


@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(port_file(), port_file())
def test_generated_override_files_merge_like_compose(base: dict, override: dict) -> None:
    """A base file and an override file with the same services: ports appended and de-duplicated."""
    with tempfile.TemporaryDirectory(prefix="auditor-diff-") as tmp:
        directory = Path(tmp) / "merge"
        directory.mkdir()
        (directory / "compose.yaml").write_text(json.dumps(base))
        (directory / "compose.override.yaml").write_text(json.dumps(override))
        files = ["compose.yaml", "compose.override.yaml"]
        cli = run_cli(directory, files)
        assert cli.ok, cli.stderr
        ours = ours_or_error(directory, files)
        assert not isinstance(ours, InputError), str(ours)
        assert our_facts(ours) == cli_facts(cli.config)
