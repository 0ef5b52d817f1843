"""Render time of the HTML report with 1,000 findings against 10, measured side by side.

Builds two results from the real rules over synthetic snapshots (10 and 1,000 PORT001
findings), then, interleaved in one run, (1) renders each to HTML in Python and (2) loads each
in Debian's headless Chromium until the page's script has run (``html[data-ready]``) and a
filter has been applied once. Prints medians and the 1,000/10 ratio of each.
Usage: ``.venv/bin/python benchmarks/perf/bench_html_render.py [--repeat N]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import tempfile
import time
from pathlib import Path

from auditor.reports.html import render_html

from auditor.audit.discovery import discover_rules
from auditor.audit.run import run_rules
from auditor.model.findings import ScanResult, TargetResult, sort_findings
from auditor.model.records import Container, Endpoint, Origin, PortBinding, Snapshot, SourceKind, Target
from auditor.model.severity import Severity

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TARGET = Target(SourceKind.ENGINE, "bench-host", "unix:///var/run/docker.sock")


def result_with(findings_wanted: int) -> ScanResult:
    """A scan result with exactly ``findings_wanted`` PORT001 findings (up to 4 per container)."""
    containers = []
    for i in range((findings_wanted + 3) // 4):
        count = min(4, findings_wanted - 4 * i)
        ports = tuple(
            PortBinding(80 + p, host_ip="0.0.0.0", host_port=20000 + 4 * i + p) for p in range(count)
        )
        containers.append(
            Container(
                name=f"svc{i:04}",
                ports=ports,
                endpoints=(Endpoint("mesh"),),
                network_mode="mesh",
                origin=Origin(SourceKind.ENGINE, f"docker://bench-host/containers/svc{i:04}"),
            )
        )
    snap = Snapshot(target=TARGET, containers=tuple(containers))
    rules = [r for r in discover_rules(include_plugins=False) if r.id == "PORT001"]
    run = run_rules(snap, rules)
    assert len(run.findings) == findings_wanted, len(run.findings)
    return ScanResult(
        tool_version="bench",
        started_at=dt.datetime.now(dt.UTC),
        duration_s=0.0,
        fail_on=Severity.HIGH,
        targets=(TargetResult(TARGET, "complete", containers=len(containers), networks=1),),
        findings=sort_findings(run.findings),
        rules_run=("PORT001",),
        snapshots=(snap,),
    )


def time_render(result: ScanResult) -> tuple[float, str]:
    start = time.perf_counter()
    page = render_html(result)
    return time.perf_counter() - start, page


def time_load(browser, path: Path) -> float:
    """Seconds from navigation until the script has run and one filter change is applied."""
    context = browser.new_context()
    page = context.new_page()
    try:
        start = time.perf_counter()
        page.goto(path.as_uri())
        page.wait_for_selector("html[data-ready='1']")
        page.select_option("#filter-severity", "medium")
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => r()))")
        return time.perf_counter() - start
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    sizes = (10, 1000)
    results = {n: result_with(n) for n in sizes}
    render_s: dict[int, list[float]] = {n: [] for n in sizes}
    load_s: dict[int, list[float]] = {n: [] for n in sizes}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        paths = {}
        for n in sizes:  # warm-up: templates compiled, browser started
            _, page = time_render(results[n])
            paths[n] = Path(tmp) / f"report-{n}.html"
            paths[n].write_text(page)
            time_load(browser, paths[n])
        order = list(sizes)
        for _ in range(args.repeat):
            random.shuffle(order)  # interleaved, shuffled: drift hits both sizes alike
            for n in order:
                seconds, _ = time_render(results[n])
                render_s[n].append(seconds)
                load_s[n].append(time_load(browser, paths[n]))
        browser.close()
        sizes_kb = {n: paths[n].stat().st_size / 1024 for n in sizes}
    print(f"HTML report, {args.repeat} interleaved repetitions (medians)")
    print(f"{'findings':>9} {'file KiB':>9} {'render ms':>10} {'browser ms':>11}")
    for n in sizes:
        print(
            f"{n:>9} {sizes_kb[n]:>9.0f} {statistics.median(render_s[n]) * 1e3:>10.1f} "
            f"{statistics.median(load_s[n]) * 1e3:>11.1f}"
        )
    r_ratio = statistics.median(render_s[1000]) / statistics.median(render_s[10])
    b_ratio = statistics.median(load_s[1000]) / statistics.median(load_s[10])
    print(f"ratio 1000/10: render {r_ratio:.1f}x, browser load+filter {b_ratio:.1f}x (100x the findings)")


if __name__ == "__main__":
    main()
