"""Keeps secrets out of the model, and so out of every output.

Environment variables and commands are never read into the model at all. Labels are kept
(reviewers need them) but a label whose key or value looks like a credential is redacted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

REDACTED = "[redacted]"

_SECRET_KEY = re.compile(
    r"(pass(word|wd|phrase)?|secret|token|api[-_.]?key|access[-_.]?key|private[-_.]?key|"
    r"credential|auth|session|cookie|signature|dsn|connection[-_.]?string|webhook"
    r"|(^|[-_.])pwd?($|[-_.]))",  # db_pwd, mysql.root.pw
    re.IGNORECASE,
)
_SECRET_VALUE = re.compile(
    r"(://[^/\s:@]*:[^/\s@]+@"  # user:password@ in a URL, the user may be empty (redis://:pw@host)
    r"|(^|[?&;\s])(?i:password|passwd|pwd|pass)=[^&;\s]"  # JDBC/ODBC: ...?user=x&password=..., Pwd=...;
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----"
    r"|\bAKIA[0-9A-Z]{16}\b"  # AWS access key id
    r"|\bgh[pousr]_[A-Za-z0-9]{30,}\b"  # GitHub tokens
    r"|\bxox[abpr]-[A-Za-z0-9-]{10,}\b"  # Slack tokens
    r"|(?i:hooks\.slack\.com)/(services|workflows|triggers)/"  # Slack webhook URLs
    r"|://[^/\s@]+@[^/\s]*(?i:sentry\.io)|[?&]sentry_key="  # Sentry DSNs and report URLs
    r"|\b[rs]k_(live|test)_[A-Za-z0-9]{8,}"  # Stripe secret and restricted keys
    r"|\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.)",  # JWT
)


# A pattern above can only match text holding one of these (lower-cased): checking them first
# spares the regular expressions (a few microseconds each) for nearly every label.
_KEY_MARKERS = (
    "pass",
    "secret",
    "token",
    "api",
    "access",
    "private",
    "credential",
    "auth",
    "session",
    "cookie",
    "signature",
    "dsn",
    "connection",
    "webhook",
    "pw",
)
_VALUE_MARKERS = ("@", "=", "-----begin", "akia", "gh", "xox", "hooks.slack.com", "k_live_", "k_test_", "eyj")


@lru_cache(maxsize=65536)
def looks_secret(key: str, value: str) -> bool:
    """Cached: the same labels recur on every container of a service, and each saved label is
    checked when it is sanitized and again when it is normalized."""
    lowered_key, lowered = key.lower(), value.lower()
    if any(m in lowered_key for m in _KEY_MARKERS) and _SECRET_KEY.search(key):
        return True
    return any(m in lowered for m in _VALUE_MARKERS) and bool(_SECRET_VALUE.search(value))


def redact_labels(labels: Mapping[str, object] | None) -> tuple[tuple[str, str], ...]:
    """Labels as sorted pairs, with credential-looking values replaced."""
    out = []
    for key, value in sorted((labels or {}).items()):
        text = "" if value is None else str(value)
        out.append((str(key), REDACTED if looks_secret(str(key), text) else text))
    return tuple(out)
