"""Compose ``volumes`` entries (short ``SOURCE:TARGET[:MODE]`` and long syntax) -> ``Mount``.

Bind sources are kept as written (relative paths are not resolved against the project
directory, so reports never carry the scanning machine's paths); named volumes get their real
name (``<project>_<key>`` unless the top-level volume sets ``name`` or is external).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from auditor.model.records import Mount, Origin

_WINDOWS_DRIVE = re.compile(r"[A-Za-z]:[\\/]")


class VolumeSpecError(ValueError):
    """A volume entry compose would reject."""


def _is_path(source: str) -> bool:
    return source.startswith(("/", ".", "~", "\\")) or bool(_WINDOWS_DRIVE.match(source))


def _split_short(raw: str) -> list[str]:
    """Split on ``:`` but keep Windows drive letters (``C:\\data:/data``) together."""
    parts: list[str] = []
    current = ""
    i = 0
    while i < len(raw):
        if raw[i] == ":" and not (
            len(current) == 1 and current.isalpha() and raw[i + 1 : i + 2] in ("\\", "/")
        ):
            parts.append(current)
            current = ""
        else:
            current += raw[i]
        i += 1
    parts.append(current)
    return parts


def parse_volume(entry: Any, origin: Origin | None, volume_name: Callable[[str], str]) -> Mount:
    """One ``volumes`` item; ``volume_name`` maps a named volume key to its real name."""
    if isinstance(entry, str):
        parts = _split_short(entry)
        if not entry or len(parts) > 3 or any(p == "" for p in parts[:2]):
            raise VolumeSpecError(f"invalid volume specification {entry!r}")
        if len(parts) == 1:
            return Mount(source="", target=parts[0], type="volume", origin=origin)
        source, target = parts[0], parts[1]
        modes = parts[2].split(",") if len(parts) == 3 else []
        kind = "bind" if _is_path(source) else "volume"
        return Mount(
            source=source if kind == "bind" else volume_name(source),
            target=target,
            type=kind,
            read_only="ro" in modes,
            origin=origin,
        )
    if isinstance(entry, dict):
        kind_value, target_value = entry.get("type") or "volume", entry.get("target")
        if not isinstance(kind_value, str) or not isinstance(target_value, str) or not target_value:
            raise VolumeSpecError("volume entry needs a type and a target path")
        source = entry.get("source") or ""
        if not isinstance(source, str):
            raise VolumeSpecError(f"volume source must be a string, not {source!r}")
        if kind_value == "volume" and source:
            source = volume_name(source)
        read_only = entry.get("read_only", False)
        return Mount(
            source=source,
            target=target_value,
            type=kind_value,
            read_only=read_only is True or read_only in ("true", "yes"),
            origin=origin,
        )
    raise VolumeSpecError(f"invalid volume entry {entry!r}")
