"""Fixtures shared by the whole suite.

Integration tests (marked ``engine``) use the real Docker engine. When
``AUDITOR_REQUIRE_ENGINE=1`` (the README test command sets it) a missing engine is an error,
otherwise those tests are skipped so a unit-only run still works.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from support.engine import (
    EngineObjects,
    build_test_image,
    end_session,
    register_session,
    remove_test_objects,
)  # noqa: E402


@pytest.fixture(scope="session")
def docker_client():
    import docker

    try:
        client = docker.from_env(timeout=60)
        client.ping()
    except Exception as exc:  # noqa: BLE001
        if os.environ.get("AUDITOR_REQUIRE_ENGINE") == "1":
            pytest.fail(f"the Docker engine is required but not reachable: {exc}")
        pytest.skip(f"no Docker engine: {exc}")
    remove_test_objects(client)  # leftovers of dead sessions
    session = register_session(client)
    yield client
    remove_test_objects(client, only_pid=str(os.getpid()))
    end_session(client, session)
    client.close()


@pytest.fixture(scope="session")
def test_image(docker_client):
    return build_test_image(docker_client)


@pytest.fixture
def engine_objects(docker_client, test_image):
    objs = EngineObjects(docker_client, test_image)
    yield objs
    objs.cleanup()
