"""The benchmark result as JSON (``auditor bench -o FILE.json``), schema_version 1.0."""

from __future__ import annotations

from typing import IO

from auditor.model.bench import BenchResult, to_json
from auditor.model.jsontext import write as write_json

from .formats import BENCH, OutputFormat


def render_json(result: BenchResult, stream: IO[str]) -> None:
    """Write the result document (read back by ``auditor.model.bench.load``)."""
    write_json(to_json(result), stream)


FORMAT = OutputFormat("json", (".json",), ((BENCH, render_json),))
