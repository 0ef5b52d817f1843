"""The benchmark on lab engines (``support.lab.bench``, docs/bench-lab.md), run tiny.

One 1-second repetition, no warm-up, of the modes only the lab can run (macvlan on the lab
parent, overlay on a swarm manager, the LAN underlay and the overlay across two engines) plus
the two baselines the benchmark always adds: the path that made docs/bench-lab.json cannot rot.
No figure is asserted, only that each mode was measured, that the cross-engine modes' traffic
went through the LAN bridge, and that nothing was left behind.
"""

from __future__ import annotations

import json

import pytest
from support.lab import bench as lab_bench
from support.lab import reaper, system

pytestmark = [pytest.mark.lab, pytest.mark.engine]

MODES = ("host-loopback", "none-loopback", "macvlan", "overlay", "lan", "overlay-cross")


@pytest.fixture(scope="module")
def tiny(lab_ready, tmp_path_factory):
    out = tmp_path_factory.mktemp("bench-lab") / "tiny"
    return lab_bench.run(
        out, duration=1, repeat=1, warmup=0, omit=0, seed=7, modes="macvlan,overlay,lan,overlay-cross"
    )


def test_every_lab_mode_is_measured(tiny):
    assert tiny.exit_code == 0
    doc = json.loads(tiny.files[0].read_text())
    assert [(m["mode"], m["status"], m["skipped_reason"], m["error"]) for m in doc["modes"]] == [
        (mode, "ok", None, None) for mode in MODES
    ]
    for mode in doc["modes"]:
        assert mode["throughput_bps"]["median"] > 0, mode["mode"]
        assert mode["latency_us"]["p50"] > 0, mode["mode"]
        assert mode["cpu"]["throughput"]["server"] is not None, mode["mode"]  # servers found, also on e2
    assert doc["environment"]["swarm"] == "active"
    assert doc["run"]["repeat"] == 1 and doc["run"]["seed"] == 7


def test_the_benchmarks_reporters_wrote_the_result(tiny):
    json_file, html_file, table_file = tiny.files
    assert (json_file.suffix, html_file.suffix, table_file.suffix) == (".json", ".html", ".txt")
    assert "overlay-cross" in html_file.read_text()
    rows = table_file.read_text().splitlines()
    assert rows[0].split()[:2] == ["mode", "status"]
    assert [row.split()[0] for row in rows[1 : 1 + len(MODES)]] == list(MODES)


def test_the_cross_engine_modes_crossed_the_lan(tiny):
    # lan and overlay-cross send through e2's port of the LAN bridge: at least 1 s of TCP each
    # way per mode; 10 MB is far below what any of them carries in a second.
    assert tiny.lan_bytes["e2"] > 10_000_000
    # ... and none of it was flooded to e1's macvlan parent (it did, 0.6 GB per second of `lan`,
    # while mv0 answered ARP for e1's address); macvlan traffic itself stays inside mv0
    assert tiny.lan_bytes["e1-mv"] < 1_000_000


def test_nothing_is_left_behind(tiny):
    assert tiny.leftovers == {"e1": (), "e2": ()}  # the benchmark's and the cross-engine objects
    assert [n for n in system.list_lab_netns() if tiny.lab_id in n] == []
    assert not (reaper.DEFAULT_BASE / tiny.lab_id).exists()
