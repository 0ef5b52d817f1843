"""Shared by the CI formats (SARIF, Code Quality, JUnit, Markdown): where a finding points, rule metadata.

A CI system wants a file relative to the repository root (``result.root``: the git root the
scan detected, or ``--repo-root``; else the current directory), whatever directory the scan
ran in. Compose findings have one (their URIs are relative to the scanned directory,
``result.scan_dirs``, and are re-rooted here); other relative paths are the current
directory's (or the root's, when no such file is here). A live container started by compose names its compose file in its labels; when
that file is inside the repository the finding points there. Anything else keeps a stable
synthetic URI such as ``docker://HOST/containers/NAME``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import quote

from auditor.model.findings import ExpiredWaiver, Finding, ScanResult
from auditor.model.records import Container, SourceKind
from auditor.model.rule import RuleMeta

CONFIG_FILES_LABEL = "com.docker.compose.project.config_files"
WORKING_DIR_LABEL = "com.docker.compose.project.working_dir"
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
# Path-safe RFC 3986 characters stay; everything else (incl. ? # [ ] % and spaces) is encoded.
_URI_SAFE = "/:@!$&'()*+,;=-._~"


@dataclass(frozen=True)
class Place:
    """A finding's artifact: ``uri`` is a valid URI reference, ``line`` 1-based or None."""

    uri: str
    line: int | None
    in_repo: bool


def scan_root(result: ScanResult) -> Path:
    return Path(result.root or os.getcwd()).resolve()


def encode_uri(text: str) -> str:
    """Percent-encode what is not allowed in a URI (spaces, quotes, brackets in names...)."""
    return quote(text, safe=_URI_SAFE)


def _path_place(path_text: str, root: Path, line: int | None) -> Place:
    path = Path(path_text)
    absolute = path if path.is_absolute() else Path(os.path.abspath(path))
    if not path.is_absolute() and not absolute.exists():  # e.g. a result read back elsewhere
        absolute = root / path
    try:
        rel = absolute.resolve().relative_to(root)
    except ValueError:
        return Place("file://" + encode_uri(absolute.resolve().as_posix()), line, False)
    return Place(encode_uri(PurePosixPath(rel.as_posix()).as_posix()), line, True)


def _compose_file_of(container: Container, root: Path) -> Place | None:
    """The compose file named in a live container's labels, when it is inside ``root``."""
    files = container.label(CONFIG_FILES_LABEL)
    if not files:
        return None
    first = files.split(",")[0].strip()
    if not first:
        return None
    path = Path(first)
    if not path.is_absolute():
        workdir = container.label(WORKING_DIR_LABEL)
        if not workdir:
            return None
        path = Path(workdir) / path
    place = _path_place(str(path), root, None)
    return place if place.in_repo else None


def _container_index(result: ScanResult) -> dict[tuple[str, str], Container]:
    out: dict[tuple[str, str], Container] = {}
    for snap in result.snapshots:
        for c in snap.containers:
            if c.kind == "container":
                out.setdefault((snap.target.name, c.name), c)
    return out


def places(result: ScanResult) -> dict[str, Place]:
    """Every finding's place, by fingerprint."""
    root = scan_root(result)
    containers = _container_index(result)
    scan_dirs = result.scan_dirs
    out: dict[str, Place] = {}
    for f in result.findings:
        out[f.fingerprint] = place_of(f, root, containers, scan_dirs)
    return out


def place_of(
    f: Finding, root: Path, containers: dict[tuple[str, str], Container], scan_dirs: tuple[str, ...] = ()
) -> Place:
    loc = f.location
    if f.resource.kind == "container":
        container = containers.get((f.resource.host or "", f.resource.name))
        if container is not None:
            found = _compose_file_of(container, root)
            if found is not None:
                return found
    if loc is None:
        host = encode_uri(f.resource.host or "unknown")
        return Place(f"docker://{host}/{f.resource.kind}s/{encode_uri(f.resource.name)}", None, False)
    if _SCHEME.match(loc.uri) and not re.match(r"^[A-Za-z]:[\\/]", loc.uri):
        return Place(encode_uri(loc.uri), loc.line, False)
    first = loc.uri.split(", ")[0]  # several saved inspect files: point at the first
    if loc.kind is SourceKind.COMPOSE and not Path(first).is_absolute():
        first = _under_scanned_dir(first, scan_dirs)
    return _path_place(first, root, loc.line)


def _under_scanned_dir(uri: str, scan_dirs: tuple[str, ...]) -> str:
    """Compose URIs are relative to the scanned directory: find the file below one of them."""
    for base in scan_dirs:
        candidate = Path(base) / uri
        if candidate.is_file():
            return str(candidate)
    return uri


def rule_metas(result: ScanResult) -> dict[str, RuleMeta]:
    """Metadata of the rules that ran or reported, by id (a saved result carries none)."""
    metas = {m.id: m for m in result.rules}
    wanted = set(result.rules_run) | {f.rule_id for f in result.findings}
    return {rid: metas[rid] for rid in sorted(wanted) if rid in metas}


def logical_name(f: Finding) -> str:
    """``host/project/name`` (project omitted when unknown): the finding's logical location."""
    parts = [f.resource.host or "", f.resource.project or "", f.resource.name]
    return "/".join(p for p in parts if p)


def expired_waivers(result: ScanResult) -> tuple[ExpiredWaiver, ...]:
    return result.policy.expired_waivers if result.policy is not None else ()


def expired_json(w: ExpiredWaiver) -> dict[str, object]:
    return {
        "rule": w.rule,
        "match": w.match,
        "reason": w.reason,
        "owner": w.owner,
        "expires": w.expires,
        "source": w.source,
        "findings": w.findings,
    }


def policy_json(result: ScanResult) -> dict[str, object] | None:
    """What the gate policy did (waivers, expired waivers, baseline), or None when none ran."""
    p = result.policy
    if p is None:
        return None
    return {
        "fail_on_new": p.fail_on_new,
        "waived": p.waived,
        "expired_waivers": [expired_json(w) for w in p.expired_waivers],
        "baseline": None if p.baseline is None else {"new": p.baseline.new, "existing": p.baseline.existing},
        "severity_overrides": {rule: sev.label for rule, sev in p.severity_overrides},
    }


def policy_lines(result: ScanResult) -> list[str]:
    """Plain-text lines for terminals: expired waivers and the baseline split."""
    lines = [
        f"expired waiver {w.source}: {w.rule} ({w.match}) owned by {w.owner} expired on "
        f"{w.expires}; {w.findings} finding(s) open again"
        for w in expired_waivers(result)
    ]
    p = result.policy
    if p is not None and p.baseline is not None:
        only = " (gate counts new ones only)" if p.fail_on_new else ""
        lines.append(f"baseline: {p.baseline.new} new, {p.baseline.existing} existing{only}")
    return lines
