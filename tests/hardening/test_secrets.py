"""Secrets never leave the engine: env vars, credential-looking labels and commands are absent
from every report format and from the snapshot export.

A real container carries the secrets; each output must name the container (so the test would
see a leak) and contain none of the secret strings.
"""

from __future__ import annotations

import json
import uuid

import pytest
from auditor.reports.formats import SCAN, registry

SCAN_FORMATS = registry().names(SCAN)


pytestmark = pytest.mark.engine

TAG = uuid.uuid4().hex[:10]
SECRETS = {
    "env password": f"envpw-{TAG}-Zq9",
    "env token": f"envtok-{TAG}-Xy7",
    "env url": f"https://svc:envurlpw{TAG}@db.internal/x",
    "label password": f"lblpw-{TAG}-Kk1",
    "label api key": f"lblkey-{TAG}-Ab3",
    "label url with credentials": f"postgres://admin:lblurlpw{TAG}@db:5432/app",
    "label aws key": "AKIA" + TAG.upper().replace("A", "B").ljust(16, "Q")[:16],
    "label jwt": f"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ{TAG}xx.c2lnbmF0dXJl{TAG}",
    "command argument": f"cmdpw-{TAG}-Mm5",
}
# Pieces that must not appear even when a reporter shortens or escapes the whole value.
FRAGMENTS = [
    f"envurlpw{TAG}",
    f"lblurlpw{TAG}",
    f"envpw-{TAG}",
    f"envtok-{TAG}",
    f"lblpw-{TAG}",
    f"lblkey-{TAG}",
    f"cmdpw-{TAG}",
    SECRETS["label aws key"],
    f"eyJzdWIiOiJ{TAG}",
]


@pytest.fixture
def secretive(engine_objects):
    """A running container holding secrets in its env, labels and command, with a public port."""
    c = engine_objects.container(
        "secret",
        command=["sh", "-c", f"sleep 3600; echo --password={SECRETS['command argument']}"],
        environment={
            "DB_PASSWORD": SECRETS["env password"],
            "API_TOKEN": SECRETS["env token"],
            "DATABASE_URL": SECRETS["env url"],
        },
        labels={
            "app.db.password": SECRETS["label password"],
            "app.api_key": SECRETS["label api key"],
            "app.database": SECRETS["label url with credentials"],
            "app.aws": SECRETS["label aws key"],
            "app.session": SECRETS["label jwt"],
            "app.tier": "frontend-" + TAG,
        },
        ports={"6379/tcp": ("0.0.0.0", None)},
    )
    c.reload()
    assert any(SECRETS["env password"] in e for e in c.attrs["Config"]["Env"])  # the engine has it
    return c.name


def _leaks(text: str) -> list[str]:
    return [s for s in [*SECRETS.values(), *FRAGMENTS] if s in text]


def test_no_secret_in_any_report_format(cli, recorder, secretive, tmp_path):
    outputs = {fmt: tmp_path / f"report.{fmt}" for fmt in SCAN_FORMATS}
    args = [a for fmt, path in outputs.items() for a in ("-o", f"{fmt}:{path}")]
    proc = cli("scan", "-f", "json", "--fail-on", "none", *args)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert any(f["resource"]["name"] == secretive for f in doc["findings"])
    texts = {
        "stdout": proc.stdout + proc.stderr,
        **{fmt: p.read_text(encoding="utf-8") for fmt, p in outputs.items()},
    }
    for fmt, text in texts.items():
        assert secretive in text, f"{fmt} does not mention the container, so it proves nothing"
        assert _leaks(text) == [], f"{fmt} leaks {_leaks(text)}"
    recorder(
        "secrets",
        f"{len(texts)} outputs x {len(SECRETS)} planted secrets",
        "0 leaks",
        inputs=len(texts) * len(SECRETS),
    )


def test_no_secret_in_snapshot_export(cli, recorder, secretive, tmp_path):
    snap = tmp_path / "snap.json"
    proc = cli("snapshot", "-o", str(snap))
    assert proc.returncode == 0, proc.stderr
    text = snap.read_text(encoding="utf-8")
    assert secretive in text and f"frontend-{TAG}" in text  # harmless labels are kept
    assert _leaks(text) == []
    assert '"Env"' not in text and '"Cmd"' not in text and '"Entrypoint"' not in text
    rescanned = cli("scan", str(snap), "-f", "json", "--fail-on", "none")
    assert _leaks(rescanned.stdout) == []
    recorder("secrets", "snapshot export + offline rescan", "0 leaks", inputs=2 * len(SECRETS))


def test_no_secret_in_history_store(cli, recorder, secretive, tmp_path):
    """``scan --store``: the SQLite history (and its journal files) holds no secret."""
    db = tmp_path / "history.sqlite3"
    proc = cli("scan", f"--store={db}", "-f", "json", "-q", "--fail-on", "none")
    assert proc.returncode == 0, proc.stderr
    listing = cli("history", "--store", str(db), "-f", "json")
    assert listing.returncode == 0, listing.stderr
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("history.sqlite3"))
    assert secretive.encode() in stored  # the scan really was recorded
    assert _leaks(stored.decode("utf-8", "replace") + listing.stdout) == []
    recorder("secrets", "history store (SQLite) + auditor history", "0 leaks", inputs=len(SECRETS))
