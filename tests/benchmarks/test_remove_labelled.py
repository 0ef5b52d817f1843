"""remove_labelled tolerates a removal another call already started (HTTP 409)."""

from __future__ import annotations

import docker.errors
import pytest
from auditor.benchmarks.environment import remove_labelled


class _Response:
    def __init__(self, status_code: int):
        self.status_code = status_code
        self.reason = "Conflict"
        self.url = "http+docker://localhost/containers/x"


class _Api:
    def __init__(self, status: int | None):
        self.status = status

    def containers(self, all, filters):  # noqa: A002 - the SDK's parameter name
        return [{"Id": "c1", "Labels": {}}]

    def remove_container(self, cid, force, v):
        if self.status is not None:
            raise docker.errors.APIError("boom", response=_Response(self.status), explanation="x")

    def networks(self, filters):
        return []

    def images(self, all, filters):  # noqa: A002
        return []


class _Client:
    def __init__(self, status: int | None):
        self.api = _Api(status)


def test_removal_already_in_progress_counts_as_removed():
    assert remove_labelled(_Client(409), "io.auditor.bench.run=x") == (1, 0, 0)


def test_other_refusals_are_errors():
    with pytest.raises(docker.errors.APIError):
        remove_labelled(_Client(500), "io.auditor.bench.run=x")
