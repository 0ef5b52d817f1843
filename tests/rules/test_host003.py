"""HOST003: published ports bypass UFW/firewalld."""

from __future__ import annotations

from auditor.rules.host003_firewall_bypass import RULE
from support.builders import container, port, run_rule, snapshot

from auditor.model.records import DaemonFacts

WEB = container("web", ports=[port(80, 8080), port(80, 8080, host_ip="::")])


def test_ufw_active_without_docker_user_rules():
    daemon = DaemonFacts(ufw_active=True, firewalld_active=False, docker_user_filters=False)
    [f] = run_rule(RULE, snapshot(WEB, daemon=daemon))
    assert (f.rule_id, f.resource.kind, f.resource.name) == ("HOST003", "host", "testhost")
    assert f.message == (
        "UFW is active but DOCKER-USER has no filtering rules: 1 published port(s) bypass the firewall "
        "(web 0.0.0.0:8080->80/tcp)."
    )


def test_both_firewalls_and_many_ports():
    many = [container(f"c{i}", ports=[port(80, 8000 + i)]) for i in range(5)]
    daemon = DaemonFacts(ufw_active=True, firewalld_active=True, docker_user_filters=False)
    [f] = run_rule(RULE, snapshot(*many, daemon=daemon))
    assert f.message.startswith(
        "UFW and firewalld are active but DOCKER-USER has no filtering rules: 5 published"
    )
    assert f.message.endswith("and 2 more).")


def test_filtered_unknown_or_no_firewall_is_silent():
    assert run_rule(RULE, snapshot(WEB, daemon=DaemonFacts(ufw_active=True, docker_user_filters=True))) == []
    assert run_rule(RULE, snapshot(WEB, daemon=DaemonFacts(ufw_active=True))) == []
    assert (
        run_rule(
            RULE,
            snapshot(
                WEB, daemon=DaemonFacts(ufw_active=False, firewalld_active=False, docker_user_filters=False)
            ),
        )
        == []
    )
    assert run_rule(RULE, snapshot(WEB, daemon=DaemonFacts())) == []


def test_only_loopback_ports_is_silent():
    c = container("db", ports=[port(5432, host_ip="127.0.0.1")])
    daemon = DaemonFacts(firewalld_active=True, docker_user_filters=False)
    assert run_rule(RULE, snapshot(c, daemon=daemon)) == []


# -- exact, from the exposure analysis (Snapshot.exposure) ------------------------------------
def _setup():
    from support.builders import exposure, reach, reach_port

    web = container("web", ports=[port(80, 8080), port(80, 8080, host_ip="::")])
    db = container("db", image="postgres:16", ports=[port(5432, 15432)])
    exp = exposure(
        reach_port("db", 5432, reach("lan:eth0", "blocked"), reach("internet:eth0", "blocked"),
                   bindings=("0.0.0.0:15432->5432/tcp",)),
        reach_port("web", 80, reach("lan:eth0"), reach("internet:eth0"),
                   bindings=("0.0.0.0:8080->80/tcp", "[::]:8080->80/tcp")),
    )  # fmt: skip
    return web, db, exp


def test_a_docker_user_rule_that_blocks_some_ports_names_exactly_those_left_open():
    web, db, exp = _setup()
    [f] = run_rule(RULE, snapshot(web, db, daemon=DaemonFacts(docker_user_filters=True), exposure=exp))
    assert f.severity.label == "medium"  # an allow-list may leave ports open on purpose
    assert f.message == (
        "DOCKER-USER filters container traffic; 1 published port(s) stay reachable from outside the host: "
        "web 0.0.0.0:8080->80/tcp, [::]:8080->80/tcp from lan:eth0, internet:eth0; "
        "1 blocked from outside: db 0.0.0.0:15432->5432/tcp."
    )
    assert (
        dict(f.evidence)["open_ports"]
        == "web 0.0.0.0:8080->80/tcp, [::]:8080->80/tcp from lan:eth0, internet:eth0"
    )
    assert dict(f.evidence)["blocked_ports"] == "db 0.0.0.0:15432->5432/tcp"


def test_ufw_without_docker_user_rules_names_the_ports_that_bypass_it():
    web, db, exp = _setup()
    daemon = DaemonFacts(ufw_active=True, docker_user_filters=False)
    [f] = run_rule(RULE, snapshot(web, db, daemon=daemon, exposure=exp))
    assert f.severity.label == "high"
    assert f.message.startswith(
        "UFW is active but published ports bypass it (DOCKER-USER has no filtering rules); 1 published port(s) "
        "stay reachable from outside the host: web "
    )


def test_every_port_blocked_is_silent_and_undecided_ports_are_never_called_protected():
    from support.builders import exposure, reach, reach_port

    web, db, _ = _setup()
    closed = exposure(reach_port("web", 80, reach("lan:eth0", "blocked"), bindings=("0.0.0.0:8080->80/tcp",)))
    assert run_rule(RULE, snapshot(web, daemon=DaemonFacts(docker_user_filters=True), exposure=closed)) == []
    undecided = exposure(
        reach_port("web", 80, reach("lan:eth0", "unknown"), bindings=("0.0.0.0:8080->80/tcp",))
    )
    [f] = run_rule(RULE, snapshot(web, daemon=DaemonFacts(firewalld_active=True, docker_user_filters=True),
                                  exposure=undecided))  # fmt: skip
    assert f.message == (
        "firewalld is active and DOCKER-USER filters container traffic; for 1 the analysis could not decide "
        "(not shown as protected): web 0.0.0.0:8080->80/tcp from lan:eth0."
    )
    # no firewall and no DOCKER-USER rules: PORT001 says the ports are open, HOST003 has nothing to add
    assert run_rule(RULE, snapshot(web, daemon=DaemonFacts(docker_user_filters=False), exposure=closed)) == []


def test_a_port_blocked_at_its_published_address_but_routed_to_directly_says_so():
    from support.builders import exposure, reach, reach_port

    web, api = container("web", ports=[port(80, 8080)]), container("api", ports=[port(80, 8081)])
    routed = reach_port("web", 80, reach("lan:eth0", via="direct", destination="198.18.16.2:80", published="blocked"),
                        reach("internet:eth0", "blocked"), bindings=("0.0.0.0:8080->80/tcp",))  # fmt: skip
    daemon = DaemonFacts(docker_user_filters=True)
    # its published port is closed: HOST003 has nothing to name (PORT001 says the route is open)
    assert run_rule(RULE, snapshot(web, daemon=daemon, exposure=exposure(routed))) == []
    both = exposure(routed, reach_port("api", 80, reach("lan:eth0"), bindings=("0.0.0.0:8081->80/tcp",)))
    [f] = run_rule(RULE, snapshot(web, api, daemon=daemon, exposure=both))
    assert dict(f.evidence)["open_ports"] == "api 0.0.0.0:8081->80/tcp from lan:eth0"
    assert dict(f.evidence)["blocked_ports"] == (
        "web 0.0.0.0:8080->80/tcp (its container port stays reachable by routing to the container from lan:eth0)"
    )
