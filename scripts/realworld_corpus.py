"""Rebuild the real-world compose corpus from local mirrors of public repositories.

Reads ``scripts/realworld-repos.txt`` (``owner/name [commit]`` per line) and, for every repository
whose bare git mirror is present (``MIRRORS/owner+name/repo``), copies out of that commit:

- every compose file (``compose*.y(a)ml``, ``docker-compose*.y(a)ml``, also ``-`` / ``_`` variants),
  outside the folders ``auditor scan`` skips (``vendor``, ``node_modules``, ...);
- the ``.env`` beside each, and the files a compose file needs to load: ``env_file`` targets,
  ``extends.file`` and ``include`` paths (followed transitively);
- symbolic links among those as links (a ``compose.yaml`` pointing at a variant, for example).

Nothing is built or run. The corpus is written OUTSIDE the repository (default ``/work/corpus``):
the public files are not ours to commit. Usage::

    python scripts/realworld_corpus.py [--mirrors /work/.mirror] [--out /work/corpus]
"""

from __future__ import annotations

import argparse
import os
import posixpath
import re
import shutil
import subprocess
import sys
from pathlib import Path

from ruamel.yaml import YAML

HERE = Path(__file__).resolve().parent
COMPOSE_NAME = re.compile(r"(docker-)?compose([._-][^/]*)?\.ya?ml\Z")
SKIPPED = {
    ".git",
    "node_modules",
    ".venv",
    "venv",
    "vendor",
    "__pycache__",
    ".tox",
    ".nox",
    "site-packages",
    ".idea",
    ".cache",
    ".terraform",
}
MAX_BYTES = 1024 * 1024


def read_repos(path: Path) -> list[tuple[str, str | None]]:
    out = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, *rest = line.split()
            out.append((name, rest[0] if rest else None))
    return out


def git(repo: Path, *args: str) -> bytes:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=True).stdout


def default_commit(repo: Path) -> str:
    branch = git(repo, "symbolic-ref", "HEAD").decode().strip()
    return git(repo, "rev-parse", branch).decode().strip()


def tree_entries(repo: Path, commit: str) -> dict[str, tuple[str, str]]:
    """path -> (mode, blob id) for every file of the commit."""
    out = {}
    for raw in git(repo, "ls-tree", "-r", "-z", commit).split(b"\0"):
        if not raw:
            continue
        meta, _, path = raw.partition(b"\t")
        mode, _kind, blob = meta.decode().split()
        out[path.decode("utf-8", "replace")] = (mode, blob)
    return out


def is_compose(path: str) -> bool:
    parts = path.split("/")
    return COMPOSE_NAME.match(parts[-1]) is not None and not (set(parts[:-1]) & SKIPPED)


def dot_env(data: bytes | None) -> dict[str, str]:
    """``KEY=VALUE`` lines of a ``.env`` file (enough to resolve the paths compose files name)."""
    out = {}
    for line in (data or b"").decode("utf-8", "replace").splitlines():
        key, eq, value = line.strip().removeprefix("export ").partition("=")
        if eq and key and not key.startswith("#"):
            out[key.strip()] = value.strip().strip("'\"")
    return out


def resolve(path: str, env: dict[str, str]) -> str:
    """``${VAR}`` / ``${VAR:-default}`` / ``$VAR`` in a referenced path, from ``.env``."""

    def one(match: re.Match) -> str:
        name, default = match.group(1) or match.group(3), match.group(2)
        return env.get(name) or (default or "")

    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)", one, path)


def references(text: str, variables: dict[str, str] | None = None) -> list[str]:
    """Paths a compose file needs at load time (env_file, extends.file, include), variables
    resolved from the ``.env`` beside it."""
    try:
        doc = YAML(typ="safe", pure=True).load(text)
    except Exception:  # noqa: BLE001 - a broken file is part of the corpus; it needs nothing
        return []
    if not isinstance(doc, dict):
        return []
    out: list[str] = []
    include = doc.get("include")
    for item in include if isinstance(include, list) else []:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict):
            paths = item.get("path")
            out += [paths] if isinstance(paths, str) else [p for p in paths or [] if isinstance(p, str)]
            env = item.get("env_file")
            out += [env] if isinstance(env, str) else [e for e in env or [] if isinstance(e, str)]
    services = doc.get("services")
    for svc in services.values() if isinstance(services, dict) else []:
        if not isinstance(svc, dict):
            continue
        env = svc.get("env_file")
        items = env if isinstance(env, list) else [env]
        for item in items:
            if isinstance(item, dict):
                item = item.get("path")
            if isinstance(item, str):
                out.append(item)
        ext = svc.get("extends")
        if isinstance(ext, dict) and isinstance(ext.get("file"), str):
            out.append(ext["file"])
    resolved = [resolve(p, variables or {}) for p in out]
    return [p for p in resolved if p and "$" not in p]


def extract(repo: Path, commit: str, dest: Path) -> int:
    entries = tree_entries(repo, commit)
    wanted = [p for p in entries if is_compose(p)]
    for path in list(wanted):
        env = posixpath.join(posixpath.dirname(path), ".env")
        if env in entries:
            wanted.append(env)
    done: set[str] = set()
    count = 0
    while wanted:
        path = posixpath.normpath(wanted.pop())
        if path in done or path not in entries:
            continue
        done.add(path)
        mode, blob = entries[path]
        data = git(repo, "cat-file", "blob", blob)
        target = dest / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if mode == "120000":  # a symbolic link: keep it one, and bring what it points at
            link = data.decode()
            if target.is_symlink() or target.exists():
                target.unlink()
            os.symlink(link, target)
            wanted.append(posixpath.join(posixpath.dirname(path), link))
            continue
        if len(data) > MAX_BYTES:
            continue
        target.write_bytes(data)
        if is_compose(path):
            count += 1
            base = posixpath.dirname(path)
            env_entry = entries.get(posixpath.join(base, ".env"))
            env = dot_env(
                git(repo, "cat-file", "blob", env_entry[1])
                if env_entry and env_entry[0] != "120000"
                else None
            )
            wanted += [posixpath.join(base, ref) for ref in references(data.decode("utf-8", "replace"), env)]
    return count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", default=str(HERE / "realworld-repos.txt"))
    parser.add_argument("--mirrors", default="/work/.mirror")
    parser.add_argument("--out", default="/work/corpus")
    args = parser.parse_args()
    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    total = projects = 0
    for name, commit in read_repos(Path(args.repos)):
        mirror = Path(args.mirrors) / name.replace("/", "+") / "repo"
        if not mirror.is_dir():
            print(f"missing mirror: {name} (fetch it first)", file=sys.stderr)
            continue
        commit = commit or default_commit(mirror)
        count = extract(mirror, commit, out / name.replace("/", "+"))
        print(f"{name} {commit[:12]}: {count} compose files")
        total += count
        projects += 1
    print(f"corpus: {total} compose files from {projects} repositories in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
