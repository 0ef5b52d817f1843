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


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_license_is_an_spdx_expression_with_its_text_shipped():
    project = _project()
    assert project["license"] == "Apache-2.0"
    assert project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text()
    assert text.lstrip().startswith("Apache License\n") and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text
    # PEP 639: a license expression and a License :: classifier must not both be given.
    assert not [c for c in project["classifiers"] if c.startswith("License ::")]
    build = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    assert build == ["setuptools>=77,<81"]  # 77 is the first to read an SPDX `license`


def test_every_runtime_dependency_has_an_upper_bound():
    for requirement in _project()["dependencies"]:
        assert ",<" in requirement, requirement


def test_ssh_engines_need_no_extra_install():
    """`docker[ssh]` brings paramiko: the SDK no longer stops at "Install paramiko package"."""
    from importlib.metadata import requires

    assert any(r.startswith("docker[ssh]") for r in requires("docker-net-auditor") or ())
    import paramiko  # noqa: F401 - installed as part of the distribution's dependencies
