"""Importing the Docker SDK for the engines of one scan, without paramiko when none needs it.

The SDK imports its SSH adapter, and with it paramiko (and paramiko's ``invoke``), whenever
paramiko is installed: 150 ms of a 700 ms live scan here. Only ``ssh://`` engines use that
adapter, so when no engine of the scan is reached over SSH the SDK is imported with paramiko
marked absent; the SDK treats that as an optional part and leaves it out.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

SSH_MODULE = "paramiko"


def needs_ssh(addresses: Iterable[str]) -> bool:
    return any(address.startswith("ssh://") for address in addresses)


def import_sdk(addresses: Iterable[str]) -> None:
    """Import ``docker`` for engines at ``addresses`` (a no-op once it is imported)."""
    if "docker" in sys.modules or SSH_MODULE in sys.modules or needs_ssh(addresses):
        import docker  # noqa: F401 - the SDK as it comes, SSH included

        return
    sys.modules[SSH_MODULE] = None  # type: ignore[assignment]  # `import paramiko` fails fast
    try:
        import docker  # noqa: F401
    finally:
        if sys.modules.get(SSH_MODULE, False) is None:
            del sys.modules[SSH_MODULE]  # anything else may still import paramiko later
