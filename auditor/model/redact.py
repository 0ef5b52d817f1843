"""Keeps secrets out of the model, and so out of every output.

Environment variables and commands are never read into the model at all. Labels are kept
(reviewers need them) but a label whose key or value looks like a credential is redacted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

REDACTED = "[redacted]"

_SECRET_KEY = re.compile(
    r"(pass(word|wd|phrase)?|secret|token|api[-_.]?key|access[-_.]?key|private[-_.]?key|"
    r"credential|auth|session|cookie|signature|dsn|connection[-_.]?string)",
    re.IGNORECASE,
)
_SECRET_VALUE = re.compile(
    r"(://[^/\s:@]+:[^/\s@]+@"  # user:password@ in a URL
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----"
    r"|\bAKIA[0-9A-Z]{16}\b"  # AWS access key id
    r"|\bgh[pousr]_[A-Za-z0-9]{30,}\b"  # GitHub tokens
    r"|\bxox[abpr]-[A-Za-z0-9-]{10,}\b"  # Slack tokens
    r"|\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.)",  # JWT
)


def looks_secret(key: str, value: str) -> bool:
    return bool(_SECRET_KEY.search(key) or _SECRET_VALUE.search(value))


def redact_labels(labels: Mapping[str, object] | None) -> tuple[tuple[str, str], ...]:
    """Labels as sorted pairs, with credential-looking values replaced."""
    out = []
    for key, value in sorted((labels or {}).items()):
        text = "" if value is None else str(value)
        out.append((str(key), REDACTED if looks_secret(str(key), text) else text))
    return tuple(out)
