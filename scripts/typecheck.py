"""Type-check the package as it is installed: ``auditor`` with ``rules``, ``reports`` and
``benchmarks`` mapped under it (pyproject's package-dir), through a tree of symlinks in a
temporary directory, since mypy reads folders, not setuptools mappings.

    python scripts/typecheck.py          # mypy with the settings in pyproject.toml
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAPPED = {"rules": "rules", "reports": "reports", "benchmarks": "benchmarks"}  # auditor.<key> = <folder>


def build_tree(into: Path) -> Path:
    package = into / "auditor"
    package.mkdir()
    for entry in (ROOT / "auditor").iterdir():
        if entry.name != "__pycache__":
            (package / entry.name).symlink_to(entry)
    for name, folder in MAPPED.items():
        (package / name).symlink_to(ROOT / folder)
    return into


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="auditor-types-") as tmp:
        tree = build_tree(Path(tmp))
        command = [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "-p",
            "auditor",
            *argv,
        ]
        env = {**os.environ, "MYPY_CACHE_DIR": str(Path(tmp) / ".mypy_cache")}
        return subprocess.run(command, cwd=tree, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
