"""Random DOCKER-USER rule sets (hypothesis) on a real default-engine dump.

Properties: the analysis never crashes; with only understood matches and targets no answer
is unknown; with unknown constructs every unknown answer names one of them; rules that only
accept or return never make a reachable port blocked.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.exposure_fixtures import load_scenario
from support.iptables_strategies import iptables_match

from auditor.exposure.facts import firewall_facts
from auditor.exposure.matrix import Verdict

BASE = load_scenario("default")
APPNET = next(n for n in BASE.networks if n.name == "appnet")
APPNET_BRIDGE = f"br-{APPNET.id[:12]}"
BASE_MATRIX = BASE.analyze()


@dataclass(frozen=True)
class GenRule:
    text: str
    unknown: bool
    target: str


IFACES = ["eth0", "docker0", APPNET_BRIDGE, "eth+", "br-+", "lo"]
NETS = ["198.18.0.0/24", "198.18.16.0/24", "198.18.32.2/32", "203.0.113.0/24", "0.0.0.0/0", "198.18.0.254"]
PORTS = ["80", "5432", "8080", "15432", "6379", "1000:9000", "8081"]


def understood_match():
    return iptables_match(IFACES, NETS, PORTS)


UNKNOWN_MATCHES = [
    "-m recent --name audexp --rcheck",
    "-m limit --limit 1/s",
    "-m set --match-set nosuchset src",
    "-m owner --uid-owner 0",
]


@st.composite
def gen_rule(draw, allow_unknown: bool, targets: tuple[str, ...]) -> GenRule:
    parts = draw(st.lists(understood_match(), max_size=3))
    unknown = False
    if allow_unknown and draw(st.integers(0, 3)) == 0:
        parts.append(draw(st.sampled_from(UNKNOWN_MATCHES)))
        unknown = True
    target = draw(st.sampled_from(targets))
    if allow_unknown and draw(st.integers(0, 9)) == 0:
        target, unknown = "NFQUEUE --queue-num 1", True
    return GenRule(f"-A DOCKER-USER {' '.join(parts)} -j {target}".replace("  ", " "), unknown, target)


def with_docker_user(rules: list[GenRule]):
    text = BASE.firewall.iptables_save or ""
    lines = "".join(r.text + "\n" for r in rules)
    text = text.replace("-A DOCKER-USER -j RETURN\n", lines + "-A DOCKER-USER -j RETURN\n")
    return firewall_facts(
        iptables_save=text, ip6tables_save=BASE.firewall.ip6tables_save, nft_json=BASE.firewall.nft_json
    )


ALL_TARGETS = ("ACCEPT", "DROP", "REJECT", "RETURN", "LOG")
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.lists(gen_rule(False, ALL_TARGETS), max_size=6))
def test_understood_rules_never_give_unknown(rules):
    matrix = BASE.analyze(firewall=with_docker_user(rules))
    assert len(matrix.cells) == len(BASE_MATRIX.cells)
    unknown = [(c.zone, c.container, c.port, c.trace) for c in matrix.cells if c.verdict is Verdict.UNKNOWN]
    assert unknown == [], [r.text for r in rules]


@SETTINGS
@given(st.lists(gen_rule(True, ALL_TARGETS), max_size=6))
def test_unknown_answers_name_an_unknown_construct_on_their_path(rules):
    matrix = BASE.analyze(firewall=with_docker_user(rules))
    unknown_refs = {f"filter DOCKER-USER rule {i}" for i, r in enumerate(rules, 1) if r.unknown}
    for cell in matrix.cells:
        for attempt in cell.attempts:
            if attempt.verdict is not Verdict.UNKNOWN:
                continue
            named = set(attempt.undecided) | {
                ref for ref in unknown_refs for reason in attempt.reasons if reason.startswith(ref + ":")
            }
            assert named & unknown_refs, (
                cell.zone,
                cell.container,
                attempt.destination,
                attempt.reasons,
                [r.text for r in rules],
            )
    if not unknown_refs:
        assert all(c.verdict is not Verdict.UNKNOWN for c in matrix.cells)


@SETTINGS
@given(st.lists(gen_rule(False, ("ACCEPT", "RETURN", "LOG")), max_size=6))
def test_rules_that_only_accept_never_block_what_was_reachable(rules):
    matrix = BASE.analyze(firewall=with_docker_user(rules)).verdicts()
    for key, verdict in BASE_MATRIX.verdicts().items():
        if verdict is Verdict.REACHABLE:
            assert matrix[key] is Verdict.REACHABLE, (key, [r.text for r in rules])


def test_drop_everything_leaves_only_paths_that_skip_forward():
    matrix = BASE.analyze(firewall=with_docker_user([GenRule("-A DOCKER-USER -j DROP", False, "DROP")]))
    reachable = [c for c in matrix.cells if c.verdict is Verdict.REACHABLE]
    assert reachable, "the host and the proxies still reach containers"
    for cell in reachable:
        attempt = cell.decisive
        assert attempt is not None and "filter FORWARD" not in attempt.trace, (
            cell.zone,
            cell.container,
            attempt.trace,
        )
    lan = matrix.cell("lan:eth0", "web", 80)
    assert lan is not None
    by_destination = {a.destination: a for a in lan.attempts}
    v4 = by_destination["198.18.0.1:8080"]
    assert v4.verdict is Verdict.BLOCKED
    assert v4.trace == (
        "nat PREROUTING rule 1 -> DOCKER rule 4 DNAT 198.18.16.2:80 -> route forward via docker0 -> "
        "filter FORWARD rule 1 -> DOCKER-USER rule 1 DROP"
    )
    # ip6tables has no DNAT here: IPv6 clients go to docker-proxy on [::]:8080 through INPUT,
    # and the proxy's own connection leaves through OUTPUT, so DOCKER-USER never sees it.
    assert lan.verdict is Verdict.REACHABLE and lan.decisive is by_destination["[2001:2:0:1::1]:8080"]
    assert lan.trace == (
        "route local -> docker-proxy [::]:8080 -> 198.18.16.2:80 -> proxy connects -> "
        "route out via docker0 -> filter OUTPUT policy ACCEPT"
    )
