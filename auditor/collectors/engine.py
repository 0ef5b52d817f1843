"""Reads a live Docker engine through the SDK's low-level client, with GET requests only.

One container list, then concurrent inspects; a container removed between the two is noted
and skipped. The raw documents are kept (sanitized) so ``auditor snapshot`` can save exactly
what a later offline scan will normalize again.
"""

from __future__ import annotations

import json
import os
import re
import socket
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import docker
import docker.errors
import requests.exceptions

from auditor.collectors.ahead import HostChild, server_version
from auditor.collectors.daemon_facts import HostReading
from auditor.collectors.endpoints import EngineSpec
from auditor.collectors.raw import RawState, as_object, engine_state, sanitize_container
from auditor.model.errors import TargetUnavailable
from auditor.model.records import SourceKind, Target

INSPECT_WORKERS = 8


@dataclass
class _Progress:
    inspected: int = 0
    notes: list[str] = field(default_factory=list)
    refused: list[BaseException] = field(default_factory=list)  # inspects the engine refused


def _tls_config(spec: EngineSpec) -> docker.tls.TLSConfig | bool:
    cert_path = os.environ.get("DOCKER_CERT_PATH")
    ca = spec.ca_cert or (os.path.join(cert_path, "ca.pem") if cert_path else None)
    cert = spec.client_cert or (os.path.join(cert_path, "cert.pem") if cert_path else None)
    key = spec.client_key or (os.path.join(cert_path, "key.pem") if cert_path else None)
    wants_tls = spec.tls_verify or spec.ca_cert or spec.client_cert or os.environ.get("DOCKER_TLS_VERIFY")
    if not wants_tls:
        return False
    return docker.tls.TLSConfig(
        client_cert=(cert, key) if cert and key else None,
        ca_cert=ca,
        verify=ca if ca else bool(spec.tls_verify),
    )


def describe_failure(address: str, exc: BaseException) -> str:
    """One line saying why an engine could not be read, without a traceback."""
    text = str(exc)
    lowered = text.lower()
    if isinstance(exc, PermissionError) or "permission denied" in lowered:
        return f"permission denied talking to the Docker engine at {address} (run as a member of the docker group, or use a read-only socket proxy)"
    if isinstance(exc, requests.exceptions.Timeout) or "timed out" in lowered:
        return f"the Docker engine at {address} did not answer in time"
    if (
        isinstance(exc, (FileNotFoundError, NotADirectoryError, ConnectionRefusedError))
        or "no such file" in lowered
        or "connection refused" in lowered
    ):
        return f"cannot reach the Docker engine at {address}: nothing is listening there"
    if isinstance(exc, (json.JSONDecodeError, requests.exceptions.InvalidJSONError)):
        return f"the Docker engine at {address} sent an answer that is not valid JSON (truncated or garbled)"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError) or "incompleteread" in lowered:
        return f"the Docker engine at {address} sent an incomplete answer (connection cut mid-response)"
    if "connection aborted" in lowered or "connection reset" in lowered or "remotedisconnected" in lowered:
        return f"the Docker engine at {address} closed the connection mid-scan (was it restarted?)"
    if isinstance(exc, docker.errors.APIError):
        return f"the Docker engine at {address} refused a request: {exc.explanation or exc}"
    first = text.splitlines()[0] if text else type(exc).__name__
    return f"cannot read the Docker engine at {address}: {first[:300]}"


class _EngineClient(docker.APIClient):
    """The SDK client, except that an engine's own CA (``--tlscacert``) is not overridden by
    ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` from the environment, as requests would do."""

    def merge_environment_settings(self, url, proxies, stream, verify, cert):
        settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if verify is None and isinstance(self.verify, str):
            settings["verify"] = self.verify
        return settings


def _probe_socket(address: str, timeout: float) -> None:
    """Connect to (and close) a ``unix://`` engine's socket, raising why nothing answers there.

    A client costs ~2 ms of CPU before its first request fails (a requests session, adapters,
    the proxy variables read twice): 2 s of a 1,000-engine fleet whose sockets are gone. The
    socket is the one the SDK would open (its own parser), with its timeout. A socket whose
    backlog is full (``EAGAIN``) is left to the client, as before. TCP and SSH engines are not
    probed: an extra handshake would show in the daemon's logs."""
    if not address.startswith("unix://") or not hasattr(socket, "AF_UNIX"):
        return
    path = docker.utils.parse_host(address).removeprefix("http+unix://")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(path if path.startswith("/") else "/" + path)
        except BlockingIOError:
            return


def connect(spec: EngineSpec) -> docker.APIClient:
    """A low-level client; the API version is negotiated with one ``GET /version``. A ``unix://``
    socket that nobody listens on fails here, before a client is built."""
    try:
        base_url = spec.address
        _probe_socket(base_url, int(spec.timeout) or 1)
        use_ssh = base_url.startswith("ssh://")
        return _EngineClient(
            base_url=base_url,
            version="auto",
            timeout=int(spec.timeout) or 1,
            tls=_tls_config(spec),
            use_ssh_client=use_ssh,
        )
    except Exception as exc:  # noqa: BLE001 - every failure becomes one line
        raise TargetUnavailable(describe_failure(spec.address, exc)) from exc


def _inspect_container(client: docker.APIClient, cid: str, progress: _Progress) -> dict | None:
    try:
        doc = client.inspect_container(cid)
    except docker.errors.NotFound:
        progress.notes.append(f"container {cid[:12]} was removed between list and inspect; skipped")
        return None
    except docker.errors.APIError as exc:  # one container the engine will not describe
        progress.refused.append(exc)
        return None
    progress.inspected += 1
    return doc


def _inspect_network(client: docker.APIClient, nid: str, progress: _Progress) -> dict | None:
    try:
        return client.inspect_network(nid)
    except docker.errors.NotFound:
        progress.notes.append(f"network {nid[:12]} was removed between list and inspect; skipped")
        return None


def fetch_raw(
    spec: EngineSpec,
    on_progress: Callable[[int, int], None] | None = None,
    host_facts: Callable[[str, str | None], HostReading] | None = None,
    child: HostChild | None = None,
) -> RawState:
    """Read everything the audit needs from one engine, as sanitized raw documents;
    ``host_facts(address, server_version)`` reads what the API does not show
    (``daemon_facts.read_host_facts``), in ``child`` when there is one (it gets the engine's
    lists and may analyse the exposure from them: ``RawState.ahead``)."""
    try:
        client = connect(spec)
    except BaseException:
        if child is not None:
            child.close()
        raise
    progress = _Progress()
    ids: list[str] = []
    version: dict = {}
    info: dict | None = None
    containers: list[dict] = []
    net_docs: list[dict] = []
    services: list[dict] = []
    # The host's facts (files, firewall dumps: subprocesses) need only the address and the
    # version: read them while the engine answers the inspects (0.3-0.9 s of waiting here),
    # in the child process, or in a thread without one.
    facts_pool = ThreadPoolExecutor(max_workers=1)
    facts: Future[HostReading] | None = None
    if not (spec.read_host_config and host_facts is not None) and child is not None:
        child.close()
        child = None
    finished = False

    def reading() -> HostReading:
        if child is not None:
            child.send_listing(version, info)  # (when the lists were not sent: the version only)
            found = child.reading()
            if found is not None:
                return found
            assert host_facts is not None
            return host_facts(spec.address, server_version(version, info))  # the child failed: here
        return facts.result() if facts is not None else HostReading({})

    try:
        version = client.version()
        info = client.info()
        if child is None and spec.read_host_config and host_facts is not None:
            facts = facts_pool.submit(host_facts, spec.address, server_version(version, info))
        if child is not None and (prefetched := child.engine_lists()) is not None:  # asked at start
            listed, networks = prefetched
            child.send_listing(version, info)  # it has the lists: the version and info only
        else:
            listed = client.containers(all=True)
            networks = client.networks()
            if child is not None:
                child.send_listing(version, info, listed, networks)
        ids = [c["Id"] for c in listed if isinstance(c, dict) and "Id" in c]
        with ThreadPoolExecutor(max_workers=INSPECT_WORKERS) as pool:
            futures = [pool.submit(_inspect_container, client, cid, progress) for cid in ids]
            for done, fut in enumerate(futures, 1):
                try:
                    doc = fut.result()
                except BaseException:
                    for pending in futures:  # do not wait out every remaining inspect's timeout
                        pending.cancel()
                    raise
                if doc is not None:
                    containers.append(sanitize_container(doc))
                if on_progress:
                    on_progress(done, len(ids))
            net_docs = [
                d
                for d in pool.map(lambda n: _inspect_network(client, n["Id"], progress), networks)
                if d is not None
            ]
        services = _swarm_services(client, info, networks, progress)
        finished = True
    except TargetUnavailable:
        raise
    except Exception as exc:  # noqa: BLE001 - a fault mid-scan must not become a traceback
        where = f" (stopped after inspecting {progress.inspected} of {len(ids)} containers)" if ids else ""
        partial = None
        if isinstance(info, dict) and containers:  # report what was read, marked incomplete
            partial = _raw_state(spec, version, info, containers, net_docs, services, progress, reading())
        raise TargetUnavailable(describe_failure(spec.address, exc) + where, partial=partial) from exc
    finally:
        client.close()
        facts_pool.shutdown(wait=True)
        if child is not None and not finished:  # a fault, or Ctrl-C: the child goes too
            child.close()
    try:
        raw = _raw_state(spec, version, info, containers, net_docs, services, progress, reading())
    except BaseException:
        if child is not None:
            child.close()
        raise
    if child is not None:
        raw = replace(raw, ahead=child) if child.analyses and not progress.refused else raw
        if raw.ahead is None:
            child.close()
    if progress.refused:  # the rest of the engine was read: report it, marked incomplete
        count = f" ({len(progress.refused)} of {len(ids)} containers could not be inspected)"
        message = describe_failure(spec.address, progress.refused[0]) + count
        raise TargetUnavailable(message, partial=raw if containers else None)
    return raw


def _raw_state(
    spec, version, info, containers, net_docs, services, progress, reading: HostReading
) -> RawState:
    target = Target(SourceKind.ENGINE, str(info.get("Name") or spec.address), spec.address)
    notes = (*sorted(progress.notes), *reading.notes)
    return engine_state(
        target, version, info, containers, net_docs, services, reading.facts, notes, reading.dumps
    )


def _swarm_services(client: docker.APIClient, info: dict, networks: list, progress: _Progress) -> list[dict]:
    """Swarm services, whose ingress ports the routing mesh opens on every node.

    A manager lists them. A worker cannot, but every node keeps the ingress network's service
    table (``GET /networks/ID?verbose=true``): each service's published ingress ports, without
    their protocol. A worker's services are read from there, as TCP, and a note says so.
    """
    swarm = as_object(info.get("Swarm"))
    if swarm.get("LocalNodeState") != "active":
        return []
    if swarm.get("ControlAvailable"):
        return [d for d in client.services() if isinstance(d, dict)]
    ingress = next((n for n in networks if isinstance(n, dict) and n.get("Ingress") is True), None)
    table = client.inspect_network(ingress["Id"], verbose=True) if ingress else {}
    services = services_from_ingress_table(table)
    progress.notes.append(
        "swarm worker: services are listed only on a manager; "
        + (
            f"the ingress ports of {len(services)} service(s) were read from this node's ingress network "
            "(a worker is not told their protocol: read as TCP)"
            if services
            else "this node's ingress network publishes no service port"
        )
    )
    return services


_INGRESS_PORT = re.compile(r"^Target: (\d+), Publish: (\d+)$")


def services_from_ingress_table(doc: Any) -> list[dict]:
    """Service documents (the shape ``sanitize_service`` keeps) for every service with published
    ports in a verbose ingress network inspect: ``{"Services": {NAME: {"Ports": ["Target: 80,
    Publish: 8080"], ...}}}``. The engine prints no protocol there; none is set."""
    table = doc.get("Services") if isinstance(doc, dict) else None
    out = []
    for name, entry in sorted(table.items() if isinstance(table, dict) else ()):
        listed = entry.get("Ports") if isinstance(entry, dict) else None
        ports = []
        for text in listed if isinstance(listed, list) else []:
            match = _INGRESS_PORT.match(str(text))
            numbers = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
            if all(0 < n < 65536 for n in numbers):
                ports.append(
                    {"TargetPort": numbers[0], "PublishedPort": numbers[1], "PublishMode": "ingress"}
                )
        if name and ports:
            out.append({"ID": None, "Spec": {"Name": name}, "Endpoint": {"Ports": ports}})
    return out
