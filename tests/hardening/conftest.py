"""Fixtures of the hardening tests (the helpers themselves live in ``harness.py``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hardening.harness import record, run_cli


@pytest.fixture
def recorder() -> Callable[..., None]:
    return record


@pytest.fixture
def cli() -> Callable:
    return run_cli
