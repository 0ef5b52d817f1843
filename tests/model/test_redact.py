"""The label redactor knows the credential shapes found in real compose files and labels."""

from __future__ import annotations

import pytest

from auditor.model.redact import REDACTED, looks_secret, redact_labels

SECRETS = {
    "db_pwd key": ("db_pwd", "x"),
    "mysql.root.pw key": ("mysql.root.pw", "x"),
    "PW key": ("APP_PW", "x"),
    "redis URL without a user": ("cache.url", "redis://:pw@cache:6379/0"),
    "URL with user and password": ("db.url", "postgres://app:s3cret@db/app"),
    "JDBC password=": ("db.url", "jdbc:mysql://db/app?user=a&password=s3cret"),
    "ODBC Pwd=": ("db.conn", "Server=x;Uid=a;Pwd=s3cret;"),
    "Slack webhook": ("notify", "https://hooks.slack.com/services/T000/B000/XXXXXXXX"),
    "Slack workflow webhook": ("notify", "https://hooks.slack.com/workflows/T000/A000/1/abc"),
    "Sentry DSN": ("errors", "https://0123456789abcdef0123456789abcdef@o1.ingest.sentry.io/1"),
    "Sentry report URL": ("csp", "https://o1.ingest.sentry.io/api/1/security/?sentry_key=0123456789abcdef"),
    "Stripe live key": ("billing", "sk_live_51Habcdefghijklmnop"),
    "Stripe restricted key": ("billing", "rk_live_51Habcdefghijklmnop"),
}
BENIGN = {
    "compose project": ("com.docker.compose.project", "shop"),
    "traefik rule": ("traefik.http.routers.web.rule", "Host(`shop.example`)"),
    "plain URL with a query": ("homepage", "https://example.com/?q=1&page=2"),
    "a key merely containing pw": ("app.pwa", "yes"),
    "version": ("org.opencontainers.image.version", "1.2.3"),
}


@pytest.mark.parametrize("case", sorted(SECRETS))
def test_credentials_are_redacted(case: str) -> None:
    key, value = SECRETS[case]
    assert looks_secret(key, value)
    assert redact_labels({key: value}) == ((key, REDACTED),)


@pytest.mark.parametrize("case", sorted(BENIGN))
def test_ordinary_labels_are_kept(case: str) -> None:
    key, value = BENIGN[case]
    assert redact_labels({key: value}) == ((key, value),)
