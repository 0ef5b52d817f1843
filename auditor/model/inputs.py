"""One bounded, type-checked reader for every file an input names.

A scanned repository chooses the paths the scanner opens (compose files, ``include`` and
``extends`` targets, env files) and a CI job may point the scanner at files it did not write
(waivers, baselines, configs, saved results). Any of them can be a FIFO (opening it for reading
waits for a writer forever), a device (``/dev/zero`` never ends) or a huge file. Every read of
such a file goes through ``read_bytes``/``read_text``: only regular files (or ``-`` for stdin
where a command accepts it), never more than the caller's byte limit, every failure one
``InputError`` line (exit 2).
"""

from __future__ import annotations

import json
import os
import re
import stat
import sys
from pathlib import Path

from auditor.model.errors import InputError

KIB = 1024
MIB = 1024 * KIB

# Byte limits per kind of input; the memory a parse may use is bounded separately.
COMPOSE_LIMIT = 4 * MIB
ENV_LIMIT = 1 * MIB
CONFIG_LIMIT = 1 * MIB
WAIVERS_LIMIT = 512 * KIB  # read by the YAML tree of compose files (libyaml): ~0.2 s of CPU at the cap
HOSTS_LIMIT = 1 * MIB
JSON_LIMIT = 100 * MIB
# Values a JSON input may hold, counted before parsing as every "{", "[", "," and ":" (an upper
# estimate). The costliest shape per counted value is a list of one-key objects with distinct
# string values: about 250 bytes parsed for three counted, so this bounds a parse to about
# 170 MB beyond the text itself, whatever the shape. A snapshot of 10,000 containers counts
# about 1,100,000.
JSON_MAX_VALUES = 2_000_000

# Port bindings one target may hold: every port of both families, which is what one running
# container publishing 1-65535 lists. Each binding costs about 2 KB once it has findings, and a
# 300-byte compose file of eight "1-65535:1-65535" services asked for 524,280 of them.
MAX_PORT_BINDINGS = 131_072

_CHUNK = 1 * MIB
_OPEN_FLAGS = (
    os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
)


def _kind(mode: int) -> str | None:
    """What a non-regular file is, for the message; ``None`` for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _refuse(what: str, kind: str, shown: str) -> InputError:
    return InputError(f"{what} is {kind}, not a regular file", shown)


def _read_limited(read, limit: int, what: str, shown: str) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        chunk = read(min(_CHUNK, limit + 1 - total))
        if not chunk:
            return b"".join(parts)
        parts.append(chunk)
        total += len(chunk)
        if total > limit:
            raise InputError(f"{what} is larger than the limit of {limit} bytes", shown)


def read_bytes(
    path: str | os.PathLike[str], what: str, limit: int, *, shown: str | None = None, stdin: bool = False
) -> bytes:
    """The bytes of a regular file, at most ``limit`` of them; ``-`` is stdin when ``stdin``.

    The type is checked before opening (so no device is ever opened) and again on the open
    descriptor (so a path swapped in between cannot slip through); opening never blocks.
    """
    text = os.fspath(path)
    shown = shown or text
    if stdin and text == "-":
        return _read_limited(sys.stdin.buffer.read, limit, what, "stdin")
    try:
        kind = _kind(os.stat(text).st_mode)
        if kind is not None:
            raise _refuse(what, kind, shown)
        fd = os.open(text, _OPEN_FLAGS)
    except FileNotFoundError:
        raise InputError(f"no such {what}", shown) from None
    except NotADirectoryError:
        raise InputError(f"no such {what}", shown) from None
    except OSError as exc:
        raise InputError(f"cannot read {what}: {exc.strerror or exc}", shown) from None
    try:
        info = os.fstat(fd)
        kind = _kind(info.st_mode)
        if kind is not None:
            raise _refuse(what, kind, shown)
        if info.st_size > limit:
            raise InputError(
                f"{what} is larger than the limit of {limit} bytes ({info.st_size} bytes)", shown
            )
        with os.fdopen(fd, "rb", closefd=True) as fh:
            fd = -1
            return _read_limited(fh.read, limit, what, shown)
    except OSError as exc:
        raise InputError(f"cannot read {what}: {exc.strerror or exc}", shown) from None
    finally:
        if fd >= 0:
            os.close(fd)


# Python refuses to convert integers of more digits (a guard against quadratic conversion);
# a parser that meets one raises a bare ValueError deep inside. Found first, it is one line.
MAX_DIGITS = 4300
_LONG_NUMBER = re.compile(rf"(?<![0-9])[0-9]{{{MAX_DIGITS + 1}}}")  # only at a run's start: linear
_LONG_NUMBER_BYTES = re.compile(rf"(?<![0-9])[0-9]{{{MAX_DIGITS + 1}}}".encode())


def check_numbers(text: str | bytes, what: str, shown: str) -> None:
    """An ``InputError`` naming the line of the first run of more than 4,300 digits."""
    found = (_LONG_NUMBER_BYTES if isinstance(text, bytes) else _LONG_NUMBER).search(text)  # type: ignore[arg-type]
    if found is not None:
        newline = b"\n" if isinstance(text, bytes) else "\n"
        line = text.count(newline, 0, found.start()) + 1  # type: ignore[arg-type]
        raise InputError(f"{what} holds a number of more than {MAX_DIGITS:,} digits", shown, line)


def decode(data: bytes, what: str, shown: str) -> str:
    """UTF-8 text (a leading byte-order mark is dropped), or one ``InputError``."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{what} is not UTF-8 text (invalid byte at offset {exc.start})", shown) from None


def read_text(
    path: str | os.PathLike[str], what: str, limit: int, *, shown: str | None = None, stdin: bool = False
) -> str:
    """``read_bytes`` decoded as UTF-8; a number too long for any parser to read is refused
    here, with its line (compose, env, config, waivers and hosts files all come this way)."""
    shown = shown or os.fspath(path)
    text = decode(read_bytes(path, what, limit, shown=shown, stdin=stdin), what, shown)
    check_numbers(text, what, shown)
    return text


def is_regular_file(path: str | os.PathLike[str]) -> bool:
    """True for an existing regular file (following links), without opening it."""
    try:
        return stat.S_ISREG(os.stat(os.fspath(path)).st_mode)
    except (OSError, ValueError):
        return False


def peek(path: Path, size: int = 64) -> bytes:
    """The first bytes of a regular file (empty for anything else): for sniffing formats."""
    if not is_regular_file(path):
        return b""
    try:
        fd = os.open(os.fspath(path), _OPEN_FLAGS)
    except OSError:
        return b""
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return b""
        return os.read(fd, size)
    except OSError:
        return b""
    finally:
        os.close(fd)


class DuplicateKey(ValueError):
    """A JSON object names one key twice: readers disagree on which value counts (Python keeps
    the last), so a second ``"Privileged": false`` could hide the first one's ``true``."""

    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKey(key)
            seen.add(key)
    return out


def _line_of_key(raw: bytes, key: str) -> int | None:
    """The line of the repeated key, when the key occurs exactly twice as a key in the whole
    document (then the second one is the repeat); otherwise no line rather than a wrong one."""
    found = list(re.finditer(re.escape(json.dumps(key).encode()) + rb"\s*:", raw))
    return raw.count(b"\n", 0, found[1].start()) + 1 if len(found) == 2 else None


def parse_json(data: bytes | str, what: str, shown: str) -> object:
    """JSON text to Python values; malformed, too deep, too many values, absurd numbers or a
    key given twice in one object are one ``InputError``. The value count is bounded before
    parsing (an upper estimate: every ``{``, ``[``, ``,`` and ``:``), so memory stays bounded
    whatever the document's shape."""
    raw = data.encode() if isinstance(data, str) else data
    values = raw.count(b"{") + raw.count(b"[") + raw.count(b",") + raw.count(b":")
    if values > JSON_MAX_VALUES:
        raise InputError(f"{what} holds too many values (about {values}, limit {JSON_MAX_VALUES})", shown)
    try:
        text = data if isinstance(data, str) else raw.decode(json.detect_encoding(raw))
    except UnicodeDecodeError:
        raise InputError(f"{what} is not UTF-8 text", shown) from None
    del data, raw  # the bytes go before the objects are built: a large file is not held twice
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except DuplicateKey as exc:
        shown_key = exc.key if len(exc.key) <= 60 else exc.key[:60] + "..."
        raise InputError(
            f"{what} names the key {shown_key!r} twice in one object (which one counts is ambiguous)",
            shown,
            _line_of_key(text.encode(), exc.key),
        ) from None
    except json.JSONDecodeError as exc:
        raise InputError(
            f"malformed JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})", shown
        ) from None
    except RecursionError:
        raise InputError(f"{what} is nested too deeply", shown) from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        check_numbers(text.encode(), what, shown)
        raise InputError(f"{what} holds an unreadable value: {str(exc).splitlines()[0]}", shown) from None


def load_json(
    path: str | os.PathLike[str],
    what: str,
    limit: int = JSON_LIMIT,
    *,
    shown: str | None = None,
    stdin: bool = False,
) -> object:
    """``read_bytes`` then ``parse_json``."""
    shown = shown or os.fspath(path)
    if stdin and os.fspath(path) == "-":
        shown = "stdin"
    return parse_json(read_bytes(path, what, limit, shown=shown, stdin=stdin), what, shown)
