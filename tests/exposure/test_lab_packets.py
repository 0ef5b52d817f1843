"""Live: the model's answers for a fresh namespace engine equal what real packets do there.

Starts a throwaway dockerd in its own network namespace (``tests/support/exposure_lab``),
builds one scenario, reads its dumps with the package's own readers run inside that
namespace, analyses them and sends the scenario's probes. Every probe the model answers must
agree. Slow (an engine start and stop, ~30 s); needs root, dockerd, nft.
"""

from __future__ import annotations

import pytest
from support.exposure_lab import ensure_root_tools, lab
from support.exposure_scenarios import SCENARIOS, prepare, standard_probes

from auditor.collectors.inspect import normalize_container, normalize_network
from auditor.exposure.analysis import analyze_exposure
from auditor.exposure.facts import FIREWALL_FILES, NETWORK_FILES, firewall_facts, host_network
from auditor.exposure.matrix import Verdict
from auditor.model.records import SourceKind, Target

pytestmark = [pytest.mark.engine, pytest.mark.slow]
TARGET = Target(SourceKind.ENGINE, "lab", "lab")


@pytest.mark.parametrize("name", ["user-port"])
def test_model_agrees_with_packets(name):
    reason = ensure_root_tools()
    if reason:
        pytest.skip(reason)
    scenario = SCENARIOS[name]
    with lab(f"t{name[:8]}", scenario.daemon_args) as engine:
        prepare(engine, scenario)
        probes = standard_probes(engine)
        dumps = engine.dumps()
        containers, networks = engine.inspect()
    firewall = firewall_facts(**{attr: dumps[f] for f, attr in FIREWALL_FILES.items() if f in dumps})
    network = host_network(**{attr: dumps[f] for f, attr in NETWORK_FILES.items() if f in dumps})
    matrix = analyze_exposure(
        [normalize_container(c, TARGET) for c in containers],
        [normalize_network(n, TARGET) for n in networks],
        firewall,
        network,
        every_attempt=True,
    )
    checked = 0
    for probe in probes:
        cell = matrix.cell(probe["zone"], probe["target"], probe["target_port"])
        attempt = (
            next((a for a in cell.attempts if a.destination == probe["destination"]), None) if cell else None
        )
        if attempt is None:
            assert probe["outcome"] != "open", probe
            continue
        assert attempt.verdict is not Verdict.UNKNOWN, (probe, attempt.reasons)
        assert (attempt.verdict is Verdict.REACHABLE) == (probe["outcome"] == "open"), (probe, attempt.trace)
        checked += 1
    assert checked >= 15
