"""PORT002: sensitive services reachable beyond loopback, identified by image before port."""

from __future__ import annotations

import pytest
from auditor.rules.port002_sensitive_service import RULE
from auditor.rules.services import identify, image_repository
from support.builders import container, port, run_rule, snapshot

from auditor.model.severity import Severity


def test_unauthenticated_datastore_on_wildcard_is_critical():
    [f] = run_rule(RULE, snapshot(container("cache", image="redis:7", ports=[port(6379)])))
    assert (f.rule_id, f.resource.name, f.severity) == ("PORT002", "cache", Severity.CRITICAL)
    assert f.message == (
        "cache exposes Redis (datastore) on all interfaces as *:6379->6379/tcp. Identified by its image redis. "
        "It accepts unauthenticated connections by default, so exposure is critical."
    )
    assert dict(f.evidence)["identified_by"] == "image"
    assert dict(f.evidence)["identity_evidence"] == "image redis"


def test_authenticated_service_on_specific_address_is_high():
    [f] = run_rule(
        RULE, snapshot(container("db", image="postgres:16", ports=[port(5432, host_ip="10.0.0.5")]))
    )
    assert f.severity is Severity.HIGH
    assert f.message == (
        "db exposes PostgreSQL (datastore) on 10.0.0.5 as 10.0.0.5:5432->5432/tcp. Identified by its image postgres."
    )


def test_the_image_wins_on_a_non_default_port():
    """The redis image published on 6380 is Redis (the issue's reverse case)."""
    [f] = run_rule(RULE, snapshot(container("cache", image="bitnami/redis:7.2", ports=[port(6380)])))
    assert (f.severity, dict(f.evidence)["service"], dict(f.evidence)["identity_evidence"]) == (
        Severity.CRITICAL,
        "Redis",
        "image bitnami/redis",
    )


@pytest.mark.parametrize(
    ("image", "container_port"),
    [
        ("acme/webapp:2", 9200),  # a web app on 9200 is not Elasticsearch
        ("acme/demo", 7001),  # not Cassandra
        ("duplicati/duplicati", 8200),  # a backup tool, not Vault
        ("ghcr.io/goauthentik/server", 9443),  # an identity provider, not Portainer
        ("acme/app", 8888),  # not Jupyter
        ("fluent/fluent-bit", 50000),  # a log shipper input, not Jenkins
    ],
)
def test_port_alone_is_never_high_or_critical(image, container_port):
    found = run_rule(RULE, snapshot(container("svc", image=image, ports=[port(container_port)])))
    assert [f.severity for f in found if f.severity >= Severity.HIGH] == []


def test_port_only_identification_is_medium_and_says_so():
    [f] = run_rule(RULE, snapshot(container("svc", image="acme/thing", ports=[port(27017, 8080)])))
    assert f.severity is Severity.MEDIUM
    assert f.message == (
        "svc exposes MongoDB (datastore) on all interfaces as *:8080->27017/tcp. Identified by the container "
        "port only (27017 is MongoDB's default); the image acme/thing does not say so, so confidence is low."
    )
    assert (dict(f.evidence)["identified_by"], dict(f.evidence)["identity_evidence"]) == (
        "port",
        "container port 27017/tcp",
    )


def test_port_only_authenticated_service_is_low():
    [f] = run_rule(RULE, snapshot(container("svc", image="acme/thing", ports=[port(5432)])))
    assert f.severity is Severity.LOW


def test_recognised_by_container_port_not_host_port():
    assert run_rule(RULE, snapshot(container("y", image="acme/thing", ports=[port(8081, 27017)]))) == []


def test_an_image_of_another_service_is_not_identified_by_port():
    """mongo-express on 8081 is not MongoDB, and a grafana image on 6379 is not Redis."""
    assert run_rule(RULE, snapshot(container("ui", image="mongo-express", ports=[port(8081)]))) == []
    [f] = run_rule(RULE, snapshot(container("g", image="grafana/grafana", ports=[port(6379)])))
    assert dict(f.evidence)["service"] == "Grafana"


def test_labels_identify_when_the_image_name_does_not():
    c = container(
        "kv",
        image="registry.example.test/team/kv:3",
        ports=[port(7777)],
        labels={"org.opencontainers.image.title": "valkey"},
    )
    [f] = run_rule(RULE, snapshot(c))
    assert (f.severity, dict(f.evidence)["identified_by"]) == (Severity.CRITICAL, "label")
    assert dict(f.evidence)["identity_evidence"] == "label org.opencontainers.image.title=valkey"


def test_image_that_serves_more_needs_the_port():
    """traefik on 80/443 is a proxy doing its job; only its dashboard port is an admin console."""
    assert run_rule(RULE, snapshot(container("proxy", image="traefik:v3", ports=[port(80), port(443)]))) == []
    [f] = run_rule(RULE, snapshot(container("proxy", image="traefik:v3", ports=[port(8080)])))
    assert dict(f.evidence)["service"] == "Traefik dashboard"


def test_pgadmin_is_labelled_pgadmin():
    [f] = run_rule(RULE, snapshot(container("pga", image="dpage/pgadmin4:8", ports=[port(80, 5050)])))
    assert dict(f.evidence)["service"] == "pgAdmin"


def test_silent_on_loopback_ipv4_and_ipv6():
    c = container("cache", image="redis", ports=[port(6379, host_ip="127.0.0.1"), port(6379, host_ip="::1")])
    assert run_rule(RULE, snapshot(c)) == []


def test_ambiguous_web_port_needs_the_image():
    assert run_rule(RULE, snapshot(container("app", image="acme/web", ports=[port(8080)]))) == []
    [f] = run_rule(RULE, snapshot(container("ci", image="jenkins/jenkins:lts", ports=[port(8080)])))
    assert "Jenkins" in f.message


def test_dual_stack_wildcard_is_one_finding():
    c = container("cache", image="redis", ports=[port(6379), port(6379, host_ip="::")])
    assert len(run_rule(RULE, snapshot(c))) == 1


def test_a_range_entry_is_one_finding_with_the_range_in_evidence():
    c = container(
        "es", image="elasticsearch:8", ports=[port(p, line=7) for p in range(9200, 9301)], compose=True
    )
    [f] = run_rule(RULE, snapshot(c))
    assert dict(f.evidence)["binding"] == "0.0.0.0:9200-9300->9200-9300/tcp"
    assert dict(f.evidence)["ports"] == "101"


@pytest.mark.parametrize(
    ("image", "repository"),
    [
        ("redis", "redis"),
        ("library/redis:7", "redis"),
        ("docker.io/library/redis:7@sha256:abc", "redis"),
        ("localhost:5000/team/redis:7", "team/redis"),
        ("docker.elastic.co/elasticsearch/elasticsearch:8.1", "elasticsearch/elasticsearch"),
        ("mcr.microsoft.com/mssql/server:2022-latest", "mssql/server"),
        ("", ""),
    ],
)
def test_image_repository(image, repository):
    assert image_repository(image) == repository


def test_identify_names_the_evidence():
    ident = identify(container("x", image="quay.io/coreos/etcd:v3"), port(2379))
    assert ident is not None and (ident.service.name, ident.by, ident.evidence) == (
        "Etcd",
        "image",
        "image coreos/etcd",
    )


# -- with the exposure analysis (Snapshot.exposure) ---------------------------------------------
def test_exposure_decides_severity_and_message():
    from support.builders import exposure, reach, reach_port

    redis = container("cache", image="redis:7", ports=[port(6379)])
    blocked = exposure(reach_port("cache", 6379, reach("lan:eth0", "blocked"), reach("network:appnet", via="direct"),
                                  bindings=("0.0.0.0:6379->6379/tcp",)))  # fmt: skip
    [f] = run_rule(RULE, snapshot(redis, exposure=blocked))
    assert f.severity.label == "low"
    assert f.message == (
        "cache exposes Redis (datastore) on all interfaces as *:6379->6379/tcp. Identified by its image "
        "redis. The host's firewall blocks it from outside (lan:eth0); it is reachable from network:appnet."
    )
    open_ = exposure(reach_port("cache", 6379, reach("lan:eth0", via="published", destination="198.18.0.1:6379"),
                                bindings=("0.0.0.0:6379->6379/tcp",)))  # fmt: skip
    [f] = run_rule(RULE, snapshot(redis, exposure=open_))
    assert f.severity.label == "critical"
    assert f.message.endswith(
        "so exposure is critical. The host's firewall lets clients from outside reach it (lan:eth0, e.g. at "
        "198.18.0.1:6379)."
    )
    unknown = exposure(
        reach_port("cache", 6379, reach("lan:eth0", "unknown"), bindings=("0.0.0.0:6379->6379/tcp",))
    )
    [f] = run_rule(RULE, snapshot(redis, exposure=unknown))
    assert f.severity.label == "critical"
    assert (
        "could not be decided (lan:eth0: a rule the model cannot decide); treat it as reachable." in f.message
    )
