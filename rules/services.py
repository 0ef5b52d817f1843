"""Catalogue of sensitive services, and how a container is recognised as running one.

Data first: each entry says what the service is, what kind it is, the container ports it
listens on by default, the image repositories that ship it, and whether it accepts connections
without authentication in its default configuration (which makes exposure critical).

Identification trusts the image most (its repository name: ``redis``, ``bitnami/redis``,
``docker.elastic.co/elasticsearch/elasticsearch``), then the image's own labels
(``org.opencontainers.image.title`` / ``.source``), and the container port only as weak
evidence: a web app on 9200 is not Elasticsearch. Every identification says how it was made.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from functools import lru_cache

from auditor.model.records import Container, PortBinding


@dataclass(frozen=True)
class Service:
    name: str
    category: str  # datastore | broker | search | api | admin | remote-shell | metrics
    ports: tuple[int, ...]
    images: tuple[
        str, ...
    ] = ()  # repository names (last path part) or paths (``mssql/server``); globs allowed
    unauthenticated_by_default: bool = False
    protocol: str = "tcp"
    image_needs_port: bool = False  # the image serves other things too: only these ports are this service


SERVICES: tuple[Service, ...] = (
    Service(
        "Redis",
        "datastore",
        (6379,),
        ("redis", "redis-stack", "redis-stack-server", "valkey", "keydb", "dragonfly"),
        True,
    ),
    Service("Memcached", "datastore", (11211,), ("memcached",), True),
    Service(
        "MongoDB",
        "datastore",
        (27017, 27018, 27019),
        ("mongo", "mongodb", "mongodb-community-server", "percona-server-mongodb"),
        True,
    ),
    Service("Elasticsearch", "search", (9200, 9300), ("elasticsearch", "opensearch"), True),
    Service("Apache Solr", "search", (8983,), ("solr",), True),
    Service("Apache Cassandra", "datastore", (9042, 7000, 7001), ("cassandra", "scylla"), True),
    Service("CouchDB", "datastore", (5984,), ("couchdb",)),
    Service("Etcd", "api", (2379, 2380), ("etcd",), True),
    Service("Docker Engine API", "api", (2375,), ("docker", "dind"), True, image_needs_port=True),
    Service("Docker Engine API (TLS)", "api", (2376,), ("docker", "dind"), image_needs_port=True),
    Service("Kubernetes API server", "api", (6443,), ("kube-apiserver",)),
    Service("Kubelet API", "api", (10250, 10255), ("kubelet",), True),
    Service("ZooKeeper", "broker", (2181,), ("zookeeper", "cp-zookeeper"), True),
    Service("Apache Kafka", "broker", (9092, 9093), ("kafka", "cp-kafka", "cp-server", "kafka-native"), True),
    Service("RabbitMQ", "broker", (5672, 15672), ("rabbitmq",)),
    Service("NATS", "broker", (4222, 8222), ("nats",), True),
    Service("MQTT broker", "broker", (1883,), ("eclipse-mosquitto", "mosquitto", "emqx", "vernemq"), True),
    Service(
        "PostgreSQL",
        "datastore",
        (5432,),
        ("postgres", "postgresql", "postgis", "timescaledb", "timescaledb-ha", "pgvector"),
    ),
    Service(
        "MySQL / MariaDB",
        "datastore",
        (3306, 33060),
        ("mysql", "mariadb", "percona", "percona-server", "mysql-server"),
    ),
    Service("Microsoft SQL Server", "datastore", (1433,), ("mssql/server", "azure-sql-edge")),
    Service("Oracle Database", "datastore", (1521,), ("oracle/database", "oracle-free", "oracle-xe")),
    Service("ClickHouse", "datastore", (8123, 9000), ("clickhouse", "clickhouse-server"), True),
    Service("InfluxDB", "datastore", (8086,), ("influxdb",)),
    Service("Neo4j", "datastore", (7474, 7687), ("neo4j",)),
    Service("Consul", "api", (8500,), ("consul",), True),
    Service("HashiCorp Vault", "api", (8200,), ("vault",)),
    Service("Prometheus", "metrics", (9090,), ("prometheus",), True),
    Service("Node exporter", "metrics", (9100,), ("node-exporter",), True),
    Service("Grafana", "admin", (3000,), ("grafana", "grafana-oss", "grafana-enterprise")),
    Service("Kibana", "admin", (5601,), ("kibana", "opensearch-dashboards"), True),
    Service("Portainer", "admin", (9000, 9443), ("portainer", "portainer-ce", "portainer-ee")),
    Service("Jenkins", "admin", (8080, 50000), ("jenkins",)),
    Service("Adminer", "admin", (), ("adminer",)),
    Service("phpMyAdmin", "admin", (), ("phpmyadmin",)),
    Service("pgAdmin", "admin", (), ("pgadmin4",)),
    Service("Traefik dashboard", "admin", (8080,), ("traefik",), image_needs_port=True),
    Service("Jupyter", "admin", (8888,), ("*-notebook", "jupyterlab", "jupyterhub")),
    Service("Spark master UI", "admin", (8080, 7077), ("spark",), True),
    Service("SSH", "remote-shell", (22,), ("openssh-server", "sshd")),
    Service("Telnet", "remote-shell", (23,), (), True),
    Service("RDP", "remote-shell", (3389,), ("xrdp",)),
    Service("VNC", "remote-shell", (5900, 5901), ()),
    Service("X11", "remote-shell", (6000,), (), True),
    Service("SMB", "remote-shell", (445, 139), ("samba",)),
)

# Ports that many unrelated images use (web apps, demos, UIs): never evidence on their own.
GENERIC_PORTS = frozenset(
    {3000, 5000, 7000, 7001, 8000, 8080, 8081, 8123, 8200, 8443, 8888, 9000, 9090, 9443, 50000}
)

TITLE_LABELS = ("org.opencontainers.image.title", "org.label-schema.name")
SOURCE_LABELS = ("org.opencontainers.image.source", "org.label-schema.vcs-url")


@dataclass(frozen=True)
class Identification:
    """A service recognised on a container, and on what evidence."""

    service: Service
    by: str  # image | label | port
    evidence: str  # what was matched, e.g. ``image bitnami/redis`` or ``container port 9200/tcp``

    @property
    def weak(self) -> bool:
        """Only the port number says so: the image does not."""
        return self.by == "port"


@lru_cache(maxsize=4096)
def image_repository(image: str | None) -> str:
    """``registry:5000/library/redis:7@sha256:..`` -> ``redis``; ``bitnami/redis:7`` -> ``bitnami/redis``.
    Cached: every port entry of a container, and every replica of a service, asks again."""
    if not image:
        return ""
    name = image.split("@", 1)[0].strip().lower()
    head, slash, last = name.rpartition("/")
    name = head + slash + last.split(":", 1)[0]
    parts = [p for p in name.split("/") if p]
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = parts[1:]  # a registry host
    if len(parts) == 2 and parts[0] == "library":
        parts = parts[1:]
    return "/".join(parts)


def _matches(repository: str, pattern: str) -> bool:
    if not repository:
        return False
    if "/" in pattern:
        return fnmatch.fnmatchcase(repository, pattern) or fnmatch.fnmatchcase(repository, "*/" + pattern)
    return fnmatch.fnmatchcase(repository.rsplit("/", 1)[-1], pattern)


def _by_name(repository: str) -> list[Service]:
    return list(_services_named(repository))


@lru_cache(maxsize=4096)
def _services_named(repository: str) -> tuple[Service, ...]:
    """Asked once per image, not once per port (fnmatch over every pattern for each of a
    container's 65,535 ports took seconds)."""
    return tuple(s for s in SERVICES if any(_matches(repository, p) for p in s.images))


def _from_labels(container: Container) -> tuple[list[Service], str]:
    for key in TITLE_LABELS + SOURCE_LABELS:
        value = (container.label(key) or "").strip().lower()
        if not value:
            continue
        name = value.rstrip("/").removesuffix(".git").rsplit("/", 1)[-1] if key in SOURCE_LABELS else value
        found = _by_name(name)
        if found:
            return found, f"label {key}={container.label(key)}"
    return [], ""


def candidates(container: Container) -> tuple[list[Service], str, str]:
    """Services the image (or else its labels) says the container runs, how, and the evidence."""
    repository = image_repository(container.image)
    found = _by_name(repository)
    if found:
        return found, "image", f"image {repository}"
    found, evidence = _from_labels(container)
    return found, ("label" if found else ""), evidence


@lru_cache(maxsize=1)
def _by_port() -> dict[tuple[str, int], Service]:
    """The first service (in ``SERVICES`` order) listening on each protocol and port."""
    index: dict[tuple[str, int], Service] = {}
    for service in SERVICES:
        for number in service.ports:
            index.setdefault((service.protocol, number), service)
    return index


def _identify(found: list[Service], by: str, evidence: str, port: PortBinding) -> Identification | None:
    for service in found:
        if service.protocol != port.protocol:
            continue
        if service.image_needs_port and port.container_port not in service.ports:
            continue
        return Identification(service, by, evidence)
    if found or port.container_port in GENERIC_PORTS:
        return None  # the image names another service, or the port says nothing by itself
    by_port = _by_port().get((port.protocol, port.container_port))
    if by_port is None:
        return None
    return Identification(by_port, "port", f"container port {port.container_port}/{port.protocol}")


def identify(container: Container, port: PortBinding) -> Identification | None:
    """The sensitive service behind a port: by image, then labels, then (weakly) the port."""
    return _identify(*candidates(container), port)


def identify_any(
    container: Container, ports: tuple[PortBinding, ...]
) -> tuple[PortBinding, Identification] | None:
    """The first of ``ports`` (one port entry) that identifies a service, strong evidence first.
    The image and labels are read once for the entry, not once per port (a 1-65535 range)."""
    found, by, evidence = candidates(container)
    hits = [(port, ident) for port in ports if (ident := _identify(found, by, evidence, port)) is not None]
    hits.sort(key=lambda item: item[1].weak)
    return hits[0] if hits else None


def specifically_reported(container: Container, ports: tuple[PortBinding, ...]) -> bool:
    """Whether a port entry is reported by a rule that names what it serves at medium or above
    (PORT002: a sensitive service; PORT005: a UDP amplifier). The generic all-interfaces
    finding (PORT001) then stays out: one finding per port entry."""
    if any(udp_amplifier(port) is not None for port in ports):
        return True
    hit = identify_any(container, ports)
    return hit is not None and (not hit[1].weak or hit[1].service.unauthenticated_by_default)


BACKEND_CATEGORIES = ("datastore", "broker", "search")


def backend_service(container: Container) -> Service | None:
    """The datastore/queue/search service a container runs: by image (or labels), else by a
    distinctive container port (never a generic web port); else None."""
    found, _, _ = candidates(container)
    if found:
        return next((s for s in found if s.category in BACKEND_CATEGORIES), None)
    for port in container.ports:
        ident = identify(container, port)
        if ident is not None and ident.service.category in BACKEND_CATEGORIES:
            return ident.service
    return None


@dataclass(frozen=True)
class UdpAmplifier:
    """A UDP service whose replies are much larger than requests (reflection/amplification)."""

    name: str
    port: int
    factor: str  # published bandwidth amplification factor, as an order of magnitude


UDP_AMPLIFIERS: tuple[UdpAmplifier, ...] = (
    UdpAmplifier("QOTD", 17, "~140x"),
    UdpAmplifier("chargen", 19, "~360x"),
    UdpAmplifier("DNS", 53, "28-54x"),
    UdpAmplifier("TFTP", 69, "~60x"),
    UdpAmplifier("portmapper (rpcbind)", 111, "7-28x"),
    UdpAmplifier("NTP", 123, "up to ~550x"),
    UdpAmplifier("NetBIOS name service", 137, "~4x"),
    UdpAmplifier("SNMP", 161, "~6x"),
    UdpAmplifier("CLDAP", 389, "56-70x"),
    UdpAmplifier("RIPv1", 520, "~130x"),
    UdpAmplifier("MS SQL browser", 1434, "~25x"),
    UdpAmplifier("SSDP", 1900, "~30x"),
    UdpAmplifier("Apple Remote Desktop", 3283, "~35x"),
    UdpAmplifier("WS-Discovery", 3702, "up to ~500x"),
    UdpAmplifier("mDNS", 5353, "2-10x"),
    UdpAmplifier("CoAP", 5683, "~34x"),
    UdpAmplifier("Ubiquiti discovery", 10001, "~30x"),
    UdpAmplifier("memcached", 11211, "up to ~50000x"),
)


def udp_amplifier(port: PortBinding) -> UdpAmplifier | None:
    """The amplification-prone service behind a UDP container port, if any."""
    if port.protocol != "udp":
        return None
    return next((a for a in UDP_AMPLIFIERS if a.port == port.container_port), None)
