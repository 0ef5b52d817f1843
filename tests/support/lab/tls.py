"""A throwaway CA and certificates for lab engines with a TLS API (``openssl`` CLI).

One CA per lab; a server certificate per TLS engine with its LAN address as the only subject
alternative name; one client certificate laid out as ``DOCKER_CERT_PATH`` expects
(``ca.pem``, ``cert.pem``, ``key.pem``). Keys are P-256, valid for two days, never reused.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from .plan import LabError, TlsPaths


def _openssl(*args: str, cwd: Path) -> None:
    proc = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise LabError(f"openssl {args[0]}: {proc.stderr.strip()}")


def _key_and_csr(directory: Path, stem: str, subject: str) -> None:
    _openssl(
        "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", f"{stem}-key.pem", "-out", f"{stem}.csr", "-subj", subject, cwd=directory,
    )  # fmt: skip


def _sign(directory: Path, stem: str, extensions: str) -> None:
    (directory / f"{stem}.ext").write_text(extensions)
    _openssl(
        "x509", "-req", "-in", f"{stem}.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem",
        "-CAcreateserial", "-days", "2", "-out", f"{stem}-cert.pem", "-extfile", f"{stem}.ext",
        cwd=directory,
    )  # fmt: skip


def make_ca(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    _openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", "ca-key.pem", "-out", "ca.pem", "-days", "2", "-subj", "/CN=auditor lab CA",
        cwd=directory,
    )  # fmt: skip
    _key_and_csr(directory, "client", "/CN=auditor lab client")
    _sign(directory, "client", "extendedKeyUsage=clientAuth\n")
    client = directory / "client"
    client.mkdir(exist_ok=True)
    shutil.copy(directory / "ca.pem", client / "ca.pem")
    shutil.copy(directory / "client-cert.pem", client / "cert.pem")
    shutil.copy(directory / "client-key.pem", client / "key.pem")


def server_cert(directory: Path, name: str, address: str) -> TlsPaths:
    """A server certificate for ``address`` signed by the lab CA made in ``directory``."""
    _key_and_csr(directory, name, f"/CN={name}")
    _sign(directory, name, f"subjectAltName=IP:{address}\nextendedKeyUsage=serverAuth\n")
    return TlsPaths(
        ca=directory / "ca.pem",
        server_cert=directory / f"{name}-cert.pem",
        server_key=directory / f"{name}-key.pem",
        client_dir=directory / "client",
    )
