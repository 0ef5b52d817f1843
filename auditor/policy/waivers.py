"""Waivers: a team accepts a known risk for a limited time, with a name and a reason.

The file (default ``.auditor-waivers.yaml``) is YAML read into the positioned tree of
``auditor.model.yamltree`` (libyaml's events, compose's scalar typing) so every error can name
its line. Each entry names a rule id, a ``match`` on the resource (fnmatch globs; every
given key must match), a reason, an owner and an expiry date. A waiver suppresses findings up
to and including its expiry day; after that it stops suppressing and is reported as expired.
A malformed entry or an unknown rule id is an ``InputError`` (exit 2), never ignored.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from auditor.model import inputs
from auditor.model.errors import InputError
from auditor.model.findings import Finding

DEFAULT_WAIVERS_FILE = ".auditor-waivers.yaml"
MATCH_KEYS = ("host", "project", "service", "container", "network", "resource", "port")
ENTRY_KEYS = ("rule", "match", "reason", "owner", "expires")
MAX_WAIVERS_BYTES = inputs.WAIVERS_LIMIT
# A team's waivers run to dozens; these bound parsing (besides the tree's own bounds on nodes and
# depth) and matching (each finding is checked against the waivers of its rule).
MAX_WAIVERS = 1000
MAX_ALIASES = 100
_ALIAS = re.compile(r"(?:^|[\s\[\{,:])\*[^\s\[\]\{\},]", re.MULTILINE)  # an alias token starts with *
# A YAML timestamp with a time of day (yaml.org/type/timestamp): its date is the expiry day.
_TIMESTAMP = re.compile(
    r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?"
    r"(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::?[0-9]{2})?))?"
)


@dataclass(frozen=True)
class Waiver:
    """One accepted risk; ``source`` is ``file:line`` for messages."""

    rule: str
    match: tuple[tuple[str, str], ...]
    reason: str
    owner: str
    expires: dt.date
    source: str

    def expired(self, today: dt.date) -> bool:
        """A waiver is valid through its expiry day."""
        return today > self.expires

    @property
    def match_text(self) -> str:
        """``key=glob, ...`` as reports show the match."""
        return ", ".join(f"{k}={v}" for k, v in self.match)


@dataclass(frozen=True)
class Subject:
    """The names a waiver can match a finding on."""

    host: str
    project: str
    service: str
    container: str
    resource: str
    networks: tuple[str, ...]
    ports: tuple[str, ...]


def _line(node: Any, key: str | int, default: int = 1) -> int:
    """1-based line of a mapping key or sequence item, from the tree's ``where`` (a ``Map``'s
    origin per key, a ``Seq``'s per item); ``default`` for anything else."""
    where = getattr(node, "where", None)
    if isinstance(where, dict):
        origin = where.get(key)
    elif isinstance(where, list) and isinstance(key, int) and 0 <= key < len(where):
        origin = where[key]
    else:
        origin = None
    return origin.line if origin is not None and origin.line else default


def _text(entry: Mapping, key: str, path: str, line: int) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InputError(
            f"waiver needs a non-empty string {key!r}",
            path,
            _line(entry, key, line) if key in entry else line,
        )
    return value.strip()


def _date(entry: Mapping, path: str, line: int) -> dt.date:
    value = entry.get("expires")
    where = _line(entry, "expires", line) if "expires" in entry else line
    if isinstance(value, str):  # the YAML reader keeps dates (and timestamps) as text
        text = value.strip()
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
        stamp = _TIMESTAMP.fullmatch(text)
        if stamp:
            try:
                return dt.date(*(int(part) for part in stamp.groups()))
            except ValueError:
                pass
    if value is None:
        raise InputError("waiver needs an 'expires' date (YYYY-MM-DD)", path, where)
    raise InputError(f"waiver 'expires' must be a date YYYY-MM-DD, got {value!r}", path, where)


def _match(entry: Mapping, path: str, line: int) -> tuple[tuple[str, str], ...]:
    match = entry.get("match")
    where = _line(entry, "match", line) if "match" in entry else line
    if not isinstance(match, Mapping) or not match:
        raise InputError(
            f"waiver needs a 'match' mapping with at least one of {', '.join(MATCH_KEYS)} "
            "(use host: '*' to waive a rule everywhere)",
            path,
            where,
        )
    out = []
    for key, value in match.items():
        if key not in MATCH_KEYS:
            raise InputError(
                f"unknown match key {key!r} (choose from {', '.join(MATCH_KEYS)})",
                path,
                _line(match, key, where),
            )
        if isinstance(value, bool) or not isinstance(value, str | int) or str(value).strip() == "":
            raise InputError(
                f"match {key!r} must be a non-empty string or number", path, _line(match, key, where)
            )
        out.append((str(key), str(value).strip()))
    return tuple(sorted(out))


def parse_entry(entry: Any, path: str, line: int, known_rules: Iterable[str]) -> Waiver:
    """Validate one entry; every problem names the file and line."""
    if not isinstance(entry, Mapping):
        raise InputError("each waiver must be a mapping with rule, match, reason, owner, expires", path, line)
    for key in entry:
        if key not in ENTRY_KEYS:
            raise InputError(
                f"unknown waiver field {key!r} (expected {', '.join(ENTRY_KEYS)})",
                path,
                _line(entry, key, line),
            )
    rule = _text(entry, "rule", path, line).upper()
    known = known_rules if isinstance(known_rules, frozenset) else {r.upper() for r in known_rules}
    if rule not in known:
        raise InputError(
            f"unknown rule id {rule!r} in waiver (see `auditor rules`)", path, _line(entry, "rule", line)
        )
    return Waiver(
        rule=rule,
        match=_match(entry, path, line),
        reason=_text(entry, "reason", path, line),
        owner=_text(entry, "owner", path, line),
        expires=_date(entry, path, line),
        source=f"{path}:{line}",
    )


def _bounded(text: str, path: str) -> None:
    """Refuse what would make parsing or matching explode, before parsing: too many aliases
    (one waiver aliased a million times took minutes and gigabytes) or numbers no parser reads."""
    inputs.check_numbers(text, "waivers file", path)
    aliases = _ALIAS.findall(text)
    if len(aliases) > MAX_ALIASES:
        raise InputError(
            f"waivers file uses {len(aliases)} aliases (limit {MAX_ALIASES}): write the waivers out", path
        )


def parse_waivers(text: str, path: str, known_rules: Iterable[str]) -> tuple[Waiver, ...]:
    """Parse a waivers document: a list of entries, or a mapping with a ``waivers`` list."""
    known = tuple(known_rules)
    _bounded(text, path)
    from auditor.model import yamltree  # PyYAML: only when a waiver file exists (or compose is read)

    try:
        doc = yamltree.parse_text(text, path, "waivers file")
    except yamltree.YAMLSyntaxError as exc:
        raise InputError(f"malformed YAML: {exc.problem}", path, exc.line) from None
    if doc is None:
        return ()
    entries = doc
    if isinstance(doc, Mapping):
        for key in doc:
            if key not in ("version", "waivers"):
                raise InputError(f"unknown top-level key {key!r} (expected 'waivers')", path, _line(doc, key))
        if doc.get("version", 1) != 1:
            raise InputError(
                f"unsupported waivers version {doc.get('version')!r} (expected 1)",
                path,
                _line(doc, "version"),
            )
        entries = doc.get("waivers") or []
    if not isinstance(entries, list):
        raise InputError(
            "'waivers' must be a list of entries",
            path,
            _line(doc, "waivers") if isinstance(doc, Mapping) else 1,
        )
    if len(entries) > MAX_WAIVERS:
        raise InputError(f"waivers file holds {len(entries)} waivers (limit {MAX_WAIVERS})", path)
    upper = frozenset(r.upper() for r in known)
    return tuple(parse_entry(e, path, _line(entries, i), upper) for i, e in enumerate(entries))


def load_waivers(path: str | Path, known_rules: Iterable[str]) -> tuple[Waiver, ...]:
    text = inputs.read_text(path, "waivers file", MAX_WAIVERS_BYTES)
    return parse_waivers(text, str(path), known_rules)


def _glob(pattern: str, values: Iterable[str]) -> bool:
    return any(fnmatchcase(v, pattern) for v in values if v)


def _fields(subject: Subject) -> dict[str, tuple[str, ...]]:
    return {
        "host": (subject.host,),
        "project": (subject.project,),
        "service": (subject.service,),
        "container": (subject.container,),
        "resource": (subject.resource,),
        "network": subject.networks,
        "port": subject.ports,
    }


def matches(waiver: Waiver, rule_id: str, subject: Subject, keys: frozenset[str] | None = None) -> bool:
    """True when the rule is the waiver's and every match key (of ``keys``, when given)
    matches the subject."""
    if waiver.rule != rule_id.upper():
        return False
    fields = _fields(subject)
    return all(_glob(pattern, fields[key]) for key, pattern in waiver.match if keys is None or key in keys)


PORT_KEYS = frozenset({"port"})
OTHER_KEYS = frozenset(MATCH_KEYS) - PORT_KEYS


def subject_of(finding: Finding, networks: tuple[str, ...] = (), service: str | None = None) -> Subject:
    """What a finding is about, in the vocabulary of waivers.

    ``port`` matches the container port (``80/tcp`` or ``80``) and the host port (``8080``).
    ``network`` matches the network a finding is about, or the networks its container joins;
    ``service`` matches a compose service, or the compose service label of a live container.
    """
    r = finding.resource
    evidence = dict(finding.evidence)
    ports: list[str] = []
    container_port = evidence.get("container_port")
    if container_port:
        ports += [container_port, container_port.split("/")[0]]
    host_port = evidence.get("host_port")
    if host_port and host_port != "ephemeral":
        ports.append(host_port)
    nets = list(networks)
    if r.kind == "network":
        nets.append(r.name)
    if evidence.get("network"):
        nets.append(evidence["network"])
    return Subject(
        host=r.host or "",
        project=r.project or "",
        service=r.name if r.kind == "service" else (service or ""),
        container=r.name if r.kind == "container" else "",
        resource=r.name,
        networks=tuple(nets),
        ports=tuple(ports),
    )
