"""NET008: overlay networks without encryption."""

from __future__ import annotations

from auditor.rules.net008_overlay_unencrypted import RULE
from support.builders import DEFAULT_BRIDGE, network, run_rule, snapshot

from auditor.model.records import Network


def test_plain_overlay_fires():
    [f] = run_rule(
        RULE, snapshot(networks=(DEFAULT_BRIDGE, network("backend", driver="overlay", scope="swarm")))
    )
    assert (f.rule_id, f.resource.kind, f.resource.name) == ("NET008", "network", "backend")
    assert (
        f.message == "overlay network backend is not encrypted: traffic between nodes is sent in clear text."
    )


def test_encrypted_option_even_empty_is_silent():
    net = network("backend", driver="overlay", options={"encrypted": ""})
    assert run_rule(RULE, snapshot(networks=(DEFAULT_BRIDGE, net))) == []


def test_ingress_is_named_and_bridges_ignored():
    ingress = Network(name="ingress", driver="overlay", ingress=True)
    [f] = run_rule(RULE, snapshot(networks=(DEFAULT_BRIDGE, ingress, network("appnet"))))
    assert (
        f.message
        == "ingress overlay network ingress is not encrypted: traffic between nodes is sent in clear text."
    )
