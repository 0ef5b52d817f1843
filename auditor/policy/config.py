"""Project configuration: ``.auditor.toml`` or ``[tool.auditor]`` in ``pyproject.toml``.

Looked up in the current directory (``.auditor.toml`` first), or given with ``--config``.
Command-line flags always win over the file. Every problem is an ``InputError`` naming the
file and line (exit 2): an unknown key, a wrong type, an unknown rule id or severity.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditor.model import inputs
from auditor.model.errors import InputError
from auditor.model.severity import Severity

CONFIG_FILE = ".auditor.toml"
PYPROJECT = "pyproject.toml"
_TOML_POSITION = re.compile(r"\(at line (\d+), column \d+\)")


@dataclass(frozen=True)
class Config:
    """Settings from a file; ``None`` means "not set here" so flags and defaults apply."""

    path: str | None = None
    fail_on: str | None = None
    fail_on_new: bool | None = None
    enable_rules: tuple[str, ...] = ()
    disable_rules: tuple[str, ...] = ()
    severity: tuple[tuple[str, Severity], ...] = ()
    waivers: str | None = None
    baseline: str | None = None
    format: str | None = None
    outputs: tuple[str, ...] = ()
    store: str | None = None
    lines: dict[str, int] = field(default_factory=dict, compare=False, repr=False)


KEYS = (
    "fail-on",
    "fail-on-new",
    "enable-rules",
    "disable-rules",
    "severity",
    "waivers",
    "baseline",
    "format",
    "outputs",
    "store",
)


def _key_lines(text: str, section: str | None) -> dict[str, int]:
    """1-based line of each key inside ``section`` (None: the top level), for messages."""
    lines: dict[str, int] = {}
    current: str | None = None
    header = re.compile(r"^\s*\[+\s*([^\]]+?)\s*\]+\s*(#.*)?$")
    assign = re.compile(r"""^\s*("?)([A-Za-z0-9_.\-]+)\1\s*=""")
    for number, raw in enumerate(text.splitlines(), 1):
        m = header.match(raw)
        if m:
            current = m.group(1).replace('"', "")
            if section and current.startswith(section):
                lines.setdefault(current, number)
            continue
        m = assign.match(raw)
        if not m:
            continue
        key = m.group(2)
        if current == section:
            lines.setdefault(key, number)
        elif current == (f"{section}.severity" if section else "severity"):
            lines.setdefault(f"severity.{key}", number)
    return lines


def _table(doc: Mapping[str, Any], is_pyproject: bool) -> tuple[Mapping[str, Any] | None, str | None]:
    if not is_pyproject:
        return doc, None
    tool = doc.get("tool")
    table = tool.get("auditor") if isinstance(tool, Mapping) else None
    return (table if isinstance(table, Mapping) else None), "tool.auditor"


def _str_list(value: Any, key: str, fail) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        fail(f"{key!r} must be a list of strings", key)
    return tuple(v.strip() for v in value)


def parse_config(
    text: str,
    path: str,
    known_rules: Iterable[str],
    is_pyproject: bool = False,
    confine_to: Path | None = None,
) -> Config | None:
    """Validate a config document; ``None`` when a pyproject has no ``[tool.auditor]``.

    A document with a top-level ``tool`` table is read like a pyproject, whatever its name.
    ``confine_to`` is set for a config found in the working directory, which belongs to the
    repository being scanned rather than to the user: every path it names (outputs, store,
    waivers, baseline) must then stay inside that directory, and it may not name a store URL.
    """
    import tomllib  # only when a config file exists

    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        m = _TOML_POSITION.search(message)
        line = int(m.group(1)) if m else (len(text.splitlines()) or 1)  # "at end of document"
        raise InputError(f"malformed TOML: {_TOML_POSITION.sub('', message).strip()}", path, line) from None
    except RecursionError:
        raise InputError("malformed TOML: nested too deeply", path) from None
    except ValueError as exc:  # a number of more digits than Python converts (a string read elsewhere)
        inputs.check_numbers(text, "config file", path)
        raise InputError(f"malformed TOML: {str(exc).splitlines()[0]}", path) from None
    table, section = _table(doc, is_pyproject or "tool" in doc)
    if table is None:
        return None
    lines = _key_lines(text, section)
    header_line = lines.get(section or "", 1)

    def fail(message: str, key: str | None = None) -> None:
        raise InputError(message, path, lines.get(key or "", header_line) if key else header_line)

    known = {r.upper() for r in known_rules}
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in KEYS:
            fail(f"unknown setting {key!r} (known: {', '.join(KEYS)})", key)
        if key in ("fail-on", "waivers", "baseline", "format", "store"):
            if not isinstance(value, str) or not value.strip():
                fail(f"{key!r} must be a non-empty string", key)
            values[key] = value.strip()
        elif key == "fail-on-new":
            if not isinstance(value, bool):
                fail("'fail-on-new' must be true or false", key)
            values[key] = value
        elif key in ("enable-rules", "disable-rules"):
            ids = tuple(v.upper() for v in _str_list(value, key, fail))
            unknown = [i for i in ids if i not in known]
            if unknown:
                fail(f"unknown rule id {unknown[0]!r} in {key!r} (see `auditor rules`)", key)
            values[key] = ids
        elif key == "outputs":
            values[key] = _str_list(value, key, fail)
        elif key == "severity":
            if not isinstance(value, Mapping):
                fail("'severity' must be a table of RULE = \"severity\"", key)
            overrides = []
            for rule_id, sev in value.items():
                where = f"severity.{rule_id}"
                if rule_id.upper() not in known:
                    fail(f"unknown rule id {rule_id!r} in 'severity' (see `auditor rules`)", where)
                try:
                    overrides.append((rule_id.upper(), Severity.parse(sev if isinstance(sev, str) else "")))
                except ValueError as exc:
                    fail(f"severity of {rule_id}: {exc}", where)
            values[key] = tuple(sorted(overrides))
    if "fail-on" in values and values["fail-on"].lower() != "none":
        try:
            Severity.parse(values["fail-on"])
        except ValueError as exc:
            fail(f"'fail-on': {exc}", "fail-on")
    both = set(values.get("enable-rules", ())) & set(values.get("disable-rules", ()))
    if both:
        fail(f"rule {sorted(both)[0]!r} is both enabled and disabled", "disable-rules")
    base = Path(path).parent
    if confine_to is not None:
        _confine(values, confine_to, fail)

    def relative(key: str) -> str | None:
        value = values.get(key)
        return None if value is None else str(base / value) if not Path(value).is_absolute() else value

    return Config(
        path=path,
        fail_on=values.get("fail-on"),
        fail_on_new=values.get("fail-on-new"),
        enable_rules=values.get("enable-rules", ()),
        disable_rules=values.get("disable-rules", ()),
        severity=values.get("severity", ()),
        waivers=relative("waivers"),
        baseline=relative("baseline"),
        format=values.get("format"),
        outputs=values.get("outputs", ()),
        store=values["store"] if "://" in values.get("store", "") else relative("store"),
        lines=lines,
    )


_FORMAT_PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9_-]*:(?!//)")


def inside(root: Path, value: str) -> bool:
    """True when ``value``, taken relative to ``root``, names a place inside ``root`` once
    ``..`` and every existing symbolic link on the way are resolved."""
    if not value or Path(value).is_absolute() or value.startswith("~"):
        return False
    real_root = Path(os.path.realpath(root))
    resolved = Path(os.path.realpath(real_root / value))
    return resolved == real_root or real_root in resolved.parents


def _confine(values: dict[str, Any], root: Path, fail: Callable[..., None]) -> None:
    """Refuse paths of a repository's config that leave the repository (see ``parse_config``)."""
    why = "a config found in the scanned directory may only name paths inside it"
    for key in ("waivers", "baseline"):
        if key in values and not inside(root, values[key]):
            fail(f"{key!r} {values[key]!r} is outside the repository: {why}; pass --{key} instead", key)
    for item in values.get("outputs", ()):
        target = _FORMAT_PREFIX.sub("", item, count=1)
        if target != "-" and not inside(root, target):
            fail(f"output {item!r} is outside the repository: {why}; pass -o instead", "outputs")
    store = values.get("store")
    if store is not None and "://" in store:
        fail(
            f"'store' may not name a URL in a config found in the scanned directory: {why}; pass --store instead",
            "store",
        )
    if store is not None and store != "default" and not inside(root, store):
        fail(f"'store' {store!r} is outside the repository: {why}; pass --store instead", "store")


def _read(path: Path, shown: str | None = None) -> str:
    return inputs.read_text(path, "config file", inputs.CONFIG_LIMIT, shown=shown)


def load_config(explicit: str | None, known_rules: Iterable[str], cwd: Path | None = None) -> Config:
    """The explicit ``--config`` file, else ``.auditor.toml``, else ``pyproject.toml``'s table."""
    known = tuple(known_rules)
    if explicit:
        path = Path(explicit)
        return parse_config(_read(path), explicit, known, path.name == PYPROJECT) or Config(path=explicit)
    root = cwd or Path.cwd()
    for name, is_pyproject in ((CONFIG_FILE, False), (PYPROJECT, True)):
        path = root / name
        if os.path.lexists(path):
            shown = name if cwd is None else str(path)
            config = parse_config(_read(path, shown), shown, known, is_pyproject, confine_to=root)
            if config is not None:
                return config
    return Config()
