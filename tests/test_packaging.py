"""The wheel's package list covers every package folder, so an installed auditor is whole."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_every_package_folder_is_listed_in_pyproject():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = set()
    for import_name, folder in config["package-dir"].items():
        base = ROOT / folder
        for init in base.rglob("__init__.py"):
            rel = init.parent.relative_to(base)
            if "perf" in rel.parts:  # benchmark scripts, not part of the package
                continue
            found.add(".".join((import_name, *rel.parts)) if rel.parts else import_name)
    assert found == listed
