"""Catalogue of sensitive services, recognised by well-known container port and image name.

Data only: each entry says what the service is, what kind it is, and whether it accepts
connections without authentication in its default configuration (which makes exposure
critical rather than high).
"""

from __future__ import annotations

from dataclasses import dataclass

from auditor.model.records import Container, PortBinding


@dataclass(frozen=True)
class Service:
    name: str
    category: str  # datastore | broker | search | api | admin | remote-shell | metrics
    ports: tuple[int, ...]
    images: tuple[str, ...] = ()
    unauthenticated_by_default: bool = False
    protocol: str = "tcp"


SERVICES: tuple[Service, ...] = (
    Service("Redis", "datastore", (6379,), ("redis", "valkey", "keydb"), True),
    Service("Memcached", "datastore", (11211,), ("memcached",), True),
    Service("MongoDB", "datastore", (27017, 27018, 27019), ("mongo",), True),
    Service("Elasticsearch", "search", (9200, 9300), ("elasticsearch", "opensearch"), True),
    Service("Apache Solr", "search", (8983,), ("solr",), True),
    Service("Apache Cassandra", "datastore", (9042, 7000, 7001), ("cassandra",), True),
    Service("CouchDB", "datastore", (5984,), ("couchdb",)),
    Service("Etcd", "api", (2379, 2380), ("etcd",), True),
    Service("Docker Engine API", "api", (2375,), ("docker", "dind"), True),
    Service("Docker Engine API (TLS)", "api", (2376,)),
    Service("Kubernetes API server", "api", (6443,), ("kube-apiserver",)),
    Service("Kubelet API", "api", (10250, 10255), ("kubelet",), True),
    Service("ZooKeeper", "broker", (2181,), ("zookeeper",), True),
    Service("Apache Kafka", "broker", (9092, 9093), ("kafka",), True),
    Service("RabbitMQ", "broker", (5672, 15672), ("rabbitmq",)),
    Service("NATS", "broker", (4222, 8222), ("nats",), True),
    Service("MQTT broker", "broker", (1883,), ("mosquitto", "emqx"), True),
    Service("PostgreSQL", "datastore", (5432,), ("postgres", "postgis", "timescale")),
    Service("MySQL / MariaDB", "datastore", (3306, 33060), ("mysql", "mariadb", "percona")),
    Service("Microsoft SQL Server", "datastore", (1433,), ("mssql",)),
    Service("Oracle Database", "datastore", (1521,), ("oracle",)),
    Service("ClickHouse", "datastore", (8123, 9000), ("clickhouse",), True),
    Service("InfluxDB", "datastore", (8086,), ("influxdb",)),
    Service("Neo4j", "datastore", (7474, 7687), ("neo4j",)),
    Service("Consul", "api", (8500,), ("consul",), True),
    Service("HashiCorp Vault", "api", (8200,), ("vault",)),
    Service("Prometheus", "metrics", (9090,), ("prometheus",), True),
    Service("Node exporter", "metrics", (9100,), ("node-exporter",), True),
    Service("Grafana", "admin", (3000,), ("grafana",)),
    Service("Kibana", "admin", (5601,), ("kibana",), True),
    Service("Portainer", "admin", (9000, 9443), ("portainer",)),
    Service("Jenkins", "admin", (8080, 50000), ("jenkins",)),
    Service("Adminer / phpMyAdmin", "admin", (), ("adminer", "phpmyadmin", "pgadmin")),
    Service("Traefik dashboard", "admin", (8080,), ("traefik",)),
    Service("Jupyter", "admin", (8888,), ("jupyter",)),
    Service("Spark master UI", "admin", (8080, 7077), ("spark",), True),
    Service("SSH", "remote-shell", (22,), ("openssh", "sshd")),
    Service("Telnet", "remote-shell", (23,), (), True),
    Service("RDP", "remote-shell", (3389,), ("xrdp",)),
    Service("VNC", "remote-shell", (5900, 5901), ("vnc",)),
    Service("X11", "remote-shell", (6000,), (), True),
    Service("SMB", "remote-shell", (445, 139), ("samba",)),
)

# Generic web ports that many images use for unrelated things: recognised only with the image.
_AMBIGUOUS_PORTS = {3000, 8080, 9000, 8123}


def _image_base(image: str | None) -> str:
    """``registry:5000/library/redis:7@sha256:..`` -> ``redis``."""
    if not image:
        return ""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return last.split(":", 1)[0].lower()


def identify(container: Container, port: PortBinding) -> Service | None:
    """The sensitive service behind a port, by container port first, image name second."""
    base = _image_base(container.image)
    image_matches = [s for s in SERVICES if base and any(base.startswith(i) for i in s.images)]
    for service in image_matches:
        if port.container_port in service.ports or not service.ports:
            return service
    for service in SERVICES:
        if port.protocol != service.protocol or port.container_port not in service.ports:
            continue
        if port.container_port in _AMBIGUOUS_PORTS and service not in image_matches:
            continue
        return service
    return None

BACKEND_CATEGORIES = ("datastore", "broker", "search")


def backend_service(container: Container) -> Service | None:
    """The datastore/queue/search service a container runs, by image name or port; else None."""
    base = _image_base(container.image)
    if base:
        for service in SERVICES:
            if service.category in BACKEND_CATEGORIES and any(base.startswith(i) for i in service.images):
                return service
    for port in container.ports:
        service = identify(container, port)
        if service is not None and service.category in BACKEND_CATEGORIES:
            return service
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
