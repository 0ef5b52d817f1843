"""Error types that map to documented exit codes."""

from __future__ import annotations


class AuditorError(Exception):
    """Base class: a one-line message meant for the user."""

    exit_code = 2


class InputError(AuditorError):
    """The input is invalid (malformed file, bad port spec, unknown option value): exit 2."""

    exit_code = 2

    def __init__(self, message: str, path: str | None = None, line: int | None = None):
        self.path = path
        self.line = line
        where = path or ""
        if path and line:
            where = f"{path}:{line}"
        super().__init__(f"{where}: {message}" if where else message)


class TargetUnavailable(AuditorError):
    """A target could not be scanned (engine unreachable, permission denied): exit 3.

    ``partial`` holds what was read before a fault in the middle of a scan (a ``RawState``),
    so the report can show it, marked incomplete, instead of nothing.
    """

    exit_code = 3

    def __init__(self, message: str, partial: object | None = None):
        super().__init__(message)
        self.partial = partial
