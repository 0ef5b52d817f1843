"""PORT001: ports published on all interfaces."""

from __future__ import annotations

from auditor.rules.port001_all_interfaces import RULE
from support.builders import container, port, run_rule, snapshot

from auditor.model.records import DaemonFacts


def test_fires_on_ipv4_wildcard():
    [f] = run_rule(RULE, snapshot(container("web", ports=[port(80, 8080)])))
    assert (f.rule_id, f.resource.name) == ("PORT001", "web")
    assert f.message == "web publishes 80/tcp on host port 8080 of all IPv4 interfaces (0.0.0.0)."


def test_ipv4_and_ipv6_wildcards_are_one_finding():
    c = container("web", ports=[port(80, 8080), port(80, 8080, host_ip="::")])
    [f] = run_rule(RULE, snapshot(c))
    assert f.message == (
        "web publishes 80/tcp on host port 8080 of all IPv4 interfaces (0.0.0.0) and all IPv6 interfaces (::)."
    )


def test_empty_host_ip_means_all_interfaces():
    [f] = run_rule(RULE, snapshot(container("web", ports=[port(80, None, host_ip="", published=True)])))
    assert (
        f.message
        == "web publishes 80/tcp on host port 80 (privileged, below 1024) of all interfaces (no host IP given)."
    )


def test_silent_on_loopback_specific_address_and_exposed_only():
    c = container(
        "web",
        ports=[
            port(80, 8080, host_ip="127.0.0.1"),
            port(81, host_ip="192.0.2.10"),
            port(82, published=False),
        ],
    )
    assert run_rule(RULE, snapshot(c)) == []


def test_daemon_ip_narrows_empty_host_ip():
    snap = snapshot(
        container("web", ports=[port(80, 8080, host_ip="")]), daemon=DaemonFacts(default_bind_ip="127.0.0.1")
    )
    assert run_rule(RULE, snap) == []


def test_ports_of_a_host_network_service_are_discarded_like_docker_does():
    host_mode = container("web", ports=[port(80, host_ip="")], network_mode="host", networks=(), compose=True)
    assert run_rule(RULE, snapshot(host_mode)) == []


def test_one_container_port_on_two_host_ports_is_two_findings():
    web = container("web", ports=[port(80, 8080), port(80, 9090), port(80, 8080, host_ip="::")])
    found = run_rule(RULE, snapshot(web))
    assert sorted(f.message for f in found) == [
        "web publishes 80/tcp on host port 8080 of all IPv4 interfaces (0.0.0.0) and all IPv6 interfaces (::).",
        "web publishes 80/tcp on host port 9090 of all IPv4 interfaces (0.0.0.0).",
    ]
    assert len({f.fingerprint for f in found}) == 2


def test_ephemeral_ports_keep_their_fingerprint_across_restarts():
    from dataclasses import replace

    running = container(
        "web",
        ports=[
            replace(port(80, 32768), ephemeral=True),
            replace(port(80, 32769, host_ip="::"), ephemeral=True),
        ],
    )
    restarted = container("web", ports=[replace(port(80, 32771), ephemeral=True)])
    stopped = container("web", ports=[port(80, host_ip="", published=True)])
    stopped = replace(stopped, ports=(replace(stopped.ports[0], host_port=None),))
    prints = [[f.fingerprint for f in run_rule(RULE, snapshot(c))] for c in (running, restarted, stopped)]
    assert len(prints[0]) == 1 and prints[0] == prints[1] == prints[2]


def test_an_entry_a_specific_rule_reports_is_left_to_it():
    """One finding per port entry: PORT002 (by image) and PORT005 (UDP amplifier) name the
    exposure themselves; a port-only guess at low severity does not replace PORT001."""
    c = container("x", image="redis:7", ports=[port(6379)])
    assert run_rule(RULE, snapshot(c)) == []
    assert run_rule(RULE, snapshot(container("dns", ports=[port(53, protocol="udp")]))) == []
    [f] = run_rule(RULE, snapshot(container("y", image="acme/thing", ports=[port(5432)])))
    assert f.rule_id == "PORT001"


def test_a_privileged_host_port_is_said_in_the_finding():
    [f] = run_rule(RULE, snapshot(container("web", ports=[port(8080, 443)])))
    assert (
        f.message
        == "web publishes 8080/tcp on host port 443 (privileged, below 1024) of all IPv4 interfaces (0.0.0.0)."
    )
    assert dict(f.evidence)["privileged_host_port"] == "true"


# -- with the exposure analysis (Snapshot.exposure) ---------------------------------------------
def _exposed(*cells):
    from support.builders import exposure, reach_port

    return exposure(reach_port("web", 80, *cells, bindings=("0.0.0.0:8080->80/tcp",)))


EXP_WEB = container("web", ports=[port(80, 8080)])


def test_exposure_reachable_from_outside_says_who_and_keeps_medium():
    from support.builders import reach

    trace = "nat PREROUTING rule 1 -> DOCKER rule 4 DNAT 198.18.16.2:80 -> filter FORWARD rule 1"
    exp = _exposed(reach("lan:eth0", via="published", destination="198.18.0.1:8080", trace=trace),
                   reach("internet:eth0", via="published", destination="198.18.0.1:8080", trace=trace))  # fmt: skip
    [f] = run_rule(RULE, snapshot(EXP_WEB, exposure=exp))
    assert f.severity.label == "medium"
    assert f.message == (
        "web publishes 80/tcp on host port 8080 of all IPv4 interfaces (0.0.0.0). The host's firewall lets "
        "clients from outside reach it (lan:eth0, internet:eth0, e.g. at 198.18.0.1:8080)."
    )
    assert dict(f.evidence)["trace"] == trace
    assert dict(f.evidence)["reachable_from"] == "lan:eth0, internet:eth0"


def test_exposure_blocked_from_outside_is_low_and_names_who_still_reaches_it():
    from support.builders import reach

    drop = "nat PREROUTING rule 1 -> DOCKER rule 4 DNAT 198.18.16.2:80 -> filter FORWARD rule 1 -> DOCKER-USER rule 1 DROP"
    exp = _exposed(reach("lan:eth0", "blocked", trace=drop), reach("host", via="published"),
                   reach("network:appnet", via="direct"))  # fmt: skip
    [f] = run_rule(RULE, snapshot(EXP_WEB, exposure=exp))
    assert f.severity.label == "low"
    assert f.message.endswith(
        "The host's firewall blocks it from outside (lan:eth0); it is reachable from host, network:appnet."
    )
    assert dict(f.evidence)["trace"] == drop
    only_host = _exposed(reach("lan:eth0", "blocked", trace=drop), reach("host", via="published"))
    [f] = run_rule(RULE, snapshot(EXP_WEB, exposure=only_host))
    assert f.message.endswith("it is reachable from the host itself only (loopback and local processes).")


def test_exposure_unknown_is_never_called_protected():
    from support.builders import reach

    exp = _exposed(
        reach("lan:eth0", "unknown", reasons=("-m recent is not modelled",)),
        reach("internet:eth0", "blocked"),
    )
    [f] = run_rule(RULE, snapshot(EXP_WEB, exposure=exp))
    assert f.severity.label == "medium"
    assert f.message.endswith(
        "Whether the host's firewall lets outside clients reach it could not be decided (lan:eth0: "
        "-m recent is not modelled); treat it as reachable."
    )
    assert "protected" not in f.message and "blocks" not in f.message
