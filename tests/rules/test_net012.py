"""NET012: an unpublished container port reachable from the LAN by direct routing."""

from __future__ import annotations

from auditor.rules.net012_direct_routing import RULE
from support.builders import container, exposure, port, reach, reach_port, run_rule, snapshot

TRACE = (
    "route forward via docker0 -> filter FORWARD rule 1 -> DOCKER-USER rule 1 RETURN -> FORWARD policy ACCEPT"
)
CACHE = container("cache", image="redis:7", ports=[port(6379, published=False)])


def cache_reach(*cells):
    return exposure(reach_port("cache", 6379, *cells))


def test_an_unpublished_port_routed_to_from_the_lan_is_reported_with_its_trace():
    exp = cache_reach(
        reach("lan:eth0", via="direct", destination="198.18.16.2:6379", trace=TRACE),
        reach("internet:eth0", "blocked"),
    )
    [f] = run_rule(RULE, snapshot(CACHE, exposure=exp))
    assert (f.rule_id, f.resource.name, f.severity.label, f.key) == (
        "NET012",
        "cache",
        "medium",
        "direct:6379/tcp",
    )
    assert f.message == (
        "cache does not publish 6379/tcp, but a LAN host that routes the container's subnet via this host "
        f"reaches it at 198.18.16.2:6379 (lan:eth0): {TRACE}."
    )
    assert dict(f.evidence) == {
        "container_port": "6379/tcp", "reachable_from": "lan:eth0", "destination": "198.18.16.2:6379", "trace": TRACE,
    }  # fmt: skip


def test_blocked_unknown_published_or_other_zones_are_silent():
    assert run_rule(RULE, snapshot(CACHE)) == []  # no analysis: no claim
    assert (
        run_rule(RULE, snapshot(CACHE, exposure=cache_reach(reach("lan:eth0", "blocked", via="direct"))))
        == []
    )
    assert (
        run_rule(RULE, snapshot(CACHE, exposure=cache_reach(reach("lan:eth0", "unknown", via="direct"))))
        == []
    )
    inside = cache_reach(reach("network:appnet", via="direct"), reach("host", via="direct"))
    assert run_rule(RULE, snapshot(CACHE, exposure=inside)) == []  # its own network may reach it
    published = exposure(
        reach_port("cache", 6379, reach("lan:eth0", via="direct"), bindings=("0.0.0.0:6379->6379/tcp",))
    )
    assert run_rule(RULE, snapshot(CACHE, exposure=published)) == []  # PORT001/PORT002 say it


def test_each_lan_zone_that_routes_in_is_named():
    exp = cache_reach(
        reach("lan:eth0", via="direct", destination="198.18.16.2:6379", trace=TRACE),
        reach("lan:eth1", via="direct", destination="198.18.16.2:6379", trace=TRACE),
    )
    [f] = run_rule(RULE, snapshot(CACHE, exposure=exp))
    assert dict(f.evidence)["reachable_from"] == "lan:eth0, lan:eth1"
