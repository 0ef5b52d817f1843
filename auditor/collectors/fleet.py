"""Fleets: many engines in one scan, from ``--engine`` and ``--hosts-file``.

A hosts file lists one engine per line, ``URL [NAME] [OPTION ...]``; ``#`` starts a comment.
NAME, when given, names the target in reports, history and fingerprints instead of the
engine's own host name, so a fleet's findings stay stable even if hosts are renamed. OPTIONs
give one engine its own TLS settings, in place of the command line's: ``tls-verify``,
``tlscacert=PATH``, ``tlscert=PATH``, ``tlskey=PATH`` and ``cert-dir=DIR`` (``ca.pem``,
``cert.pem``, ``key.pem`` there, as ``DOCKER_CERT_PATH`` lays them out); a relative path is
taken from the hosts file's folder.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from auditor.collectors.endpoints import EngineSpec
from auditor.model import inputs
from auditor.model.errors import InputError

_SCHEMES = ("unix://", "tcp://", "ssh://", "http://", "https://", "npipe://")
MAX_HOSTS = 1000  # each engine costs about a millisecond of CPU even when it does not answer


_PATH_OPTIONS = {"tlscacert": "ca_cert", "tlscert": "client_cert", "tlskey": "client_key"}
_CERT_DIR_FILES = {"ca_cert": "ca.pem", "client_cert": "cert.pem", "client_key": "key.pem"}
SYNTAX = "`URL [NAME] [tls-verify] [tlscacert=PATH] [tlscert=PATH] [tlskey=PATH] [cert-dir=DIR]`"


def _is_option(word: str) -> bool:
    return word == "tls-verify" or "=" in word


def _tls_options(words: Sequence[str], folder: Path, path: str, number: int) -> dict[str, object]:
    """EngineSpec TLS fields from a line's options. Any option means TLS with verification,
    and every TLS field is the line's own (none is inherited from the command line)."""
    found: dict[str, object] = {"tls_verify": True, "ca_cert": None, "client_cert": None, "client_key": None}
    cert_dir = None
    for word in words:
        key, eq, value = word.partition("=")
        if word == "tls-verify":
            continue
        if not eq or not value or (key not in _PATH_OPTIONS and key != "cert-dir"):
            raise InputError(f"unknown option {word!r}: expected {SYNTAX}", path, number)
        resolved = os.path.join(folder, value)  # an absolute value stays as it is
        if key == "cert-dir":
            cert_dir = resolved
        else:
            found[_PATH_OPTIONS[key]] = resolved
    for field, name in _CERT_DIR_FILES.items():
        if cert_dir and found[field] is None:
            found[field] = os.path.join(cert_dir, name)
    return found


def parse_hosts_file(path: str, base: EngineSpec) -> list[EngineSpec]:
    """Read ``URL [NAME] [OPTION ...]`` lines; TLS settings come from the line's options, else
    (like the timeout) from ``base`` (the command line)."""
    text = inputs.read_text(path, "hosts file", inputs.HOSTS_LIMIT)
    folder = Path(path).parent
    specs: list[EngineSpec] = []
    for number, line in enumerate(text.splitlines(), 1):
        content = line.split("#", 1)[0].strip()
        if not content:
            continue
        url, *rest = content.split()
        if not url.startswith(_SCHEMES):
            raise InputError(f"{url!r} is not an engine URL (unix://, tcp://, ssh://)", path, number)
        name = rest.pop(0) if rest and not _is_option(rest[0]) else None
        if any(not _is_option(word) for word in rest):
            raise InputError(f"expected {SYNTAX}", path, number)
        spec = replace(base, url=url, name=name)
        if rest:
            spec = replace(spec, **_tls_options(rest, folder, path, number))  # type: ignore[arg-type]
        specs.append(spec)
        if len(specs) > MAX_HOSTS:
            raise InputError(
                f"hosts file lists more than {MAX_HOSTS:,} engines (split the fleet into several scans)",
                path,
                number,
            )
    if not specs:
        raise InputError("hosts file lists no engines", path)
    return specs


def fleet_specs(
    cli_specs: Sequence[EngineSpec], hosts_file: str | None, base: EngineSpec
) -> tuple[EngineSpec, ...]:
    """``--engine`` entries first, then the hosts file's, without exact repeats."""
    specs = list(cli_specs)
    if hosts_file:
        specs.extend(parse_hosts_file(hosts_file, base))
    return tuple(dict.fromkeys(specs))


def host_label(spec: EngineSpec) -> str:
    return f"{spec.name} ({spec.address})" if spec.name else spec.address
