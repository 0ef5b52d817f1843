"""The HTML report in a real headless Chromium: reports from real engine and compose scans,
filters clicked, counts compared with the JSON, hostile names inert, 1,000 findings usable."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from auditor.reports import html
from gates.cisupport import scan_result
from support.builders import container, port, snapshot

FIXTURES = Path(__file__).parent.parent / "fixtures" / "html"
XSS_NAME = "<script>window.__pwned=1</script>"
XSS_ATTR = '"><img src=x onerror="window.__pwned=2">'
XSS_LABEL = "<svg onload=window.__pwned=3>"


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "auditor", *args], capture_output=True, text=True, timeout=300
    )


def indices(doc: dict, predicate) -> list[str]:
    """JSON finding positions, which are also the report's card indices (same order)."""
    return [str(i) for i, f in enumerate(doc["findings"]) if predicate(f)]


def assert_summary_matches(opened, doc: dict) -> None:
    page = opened.page
    assert (
        page.title()
        == f"Docker network audit: {doc['summary']['total']} open findings, gate {doc['gate']['verdict']}"
    )
    for name in ("critical", "high", "medium", "low", "info", "total"):
        assert opened.tile(name) == doc["summary"][name], name
    assert page.get_attribute("#verdict", "data-verdict") == doc["gate"]["verdict"]
    assert opened.visible_findings() == indices(doc, lambda f: True)
    assert page.inner_text("#shown-count") == str(len(doc["findings"]))


def assert_filter(opened, doc: dict, name: str, value: str, predicate) -> None:
    opened.select(name, value)
    expected = indices(doc, predicate)
    assert expected, f"no finding for {name}={value}: the check would prove nothing"
    assert opened.visible_findings() == expected
    assert opened.page.inner_text("#shown-count") == str(len(expected))
    opened.page.click("#filter-reset")
    assert len(opened.visible_findings()) == len(doc["findings"])


def exposure_of(opened, resource: str) -> str:
    return opened.page.get_attribute(f'svg.topo g.box[data-resource="{resource}"] > rect', "class")


def not_pwned(opened) -> bool:
    return opened.page.evaluate("() => window.__pwned === undefined && document.images.length === 0")


@pytest.mark.engine
def test_engine_scan_report(engine_objects, open_report, tmp_path):
    net = engine_objects.network("html")
    web = engine_objects.container("htmlweb", network=net.name, ports={"80/tcp": None})
    admin = engine_objects.container("htmladm", network=net.name, ports={"3000/tcp": ("127.0.0.1", None)})
    proc = cli(
        "scan",
        "--fail-on",
        "none",
        "-q",
        "-o",
        str(tmp_path / "scan.json"),
        "-o",
        str(tmp_path / "report.html"),
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((tmp_path / "scan.json").read_text())
    opened = open_report(tmp_path / "report.html")
    opened.assert_quiet()
    assert_summary_matches(opened, doc)

    ours = f"container/{web.name}"
    assert_filter(
        opened, doc, "resource", ours, lambda f: f"{f['resource']['kind']}/{f['resource']['name']}" == ours
    )
    assert_filter(opened, doc, "rule", "PORT001", lambda f: f["rule_id"] == "PORT001")
    severity = doc["findings"][0]["severity"]
    assert_filter(opened, doc, "severity", severity, lambda f: f["severity"] == severity)
    assert_filter(opened, doc, "source", "engine", lambda f: f["location"]["source"] == "engine")

    assert exposure_of(opened, ours) == "exp-all"
    assert exposure_of(opened, f"container/{admin.name}") == "exp-loopback"
    assert "shared" in opened.page.get_attribute(
        f'svg.topo g.net[data-resource="network/{net.name}"]', "class"
    )
    # Clicking a container in the picture lists exactly its findings.
    opened.page.click(f'svg.topo g.box[data-resource="{ours}"]')
    assert opened.page.input_value("#filter-resource") == ours
    mine = indices(doc, lambda f: f["resource"]["name"] == web.name)
    assert "PORT001" in {doc["findings"][int(i)]["rule_id"] for i in mine}
    assert opened.visible_findings() == mine
    opened.assert_quiet()


@pytest.mark.engine
def test_engine_scan_with_hostile_labels_and_saved_hostile_name(
    engine_objects, docker_client, open_report, tmp_path
):
    net = engine_objects.network("htmlx")
    evil = engine_objects.container(
        "htmlx",
        network=net.name,
        ports={"80/tcp": None},
        labels={
            "com.docker.compose.project": XSS_ATTR,
            "com.docker.compose.service": XSS_NAME,
            "note": XSS_LABEL,
        },
    )
    # The engine refuses such names, so rename the container and network in their real
    # inspect output and scan that as saved JSON: the same normalizer reads both.
    inspected = docker_client.api.inspect_container(evil.id)
    inspected["Name"] = "/" + XSS_NAME
    nets = inspected["NetworkSettings"]["Networks"]
    nets[XSS_ATTR] = nets.pop(net.name)
    inspected["HostConfig"]["NetworkMode"] = XSS_ATTR
    network_doc = docker_client.api.inspect_network(net.id)
    network_doc["Name"] = XSS_ATTR
    (tmp_path / "containers.json").write_text(json.dumps([inspected]))
    (tmp_path / "networks.json").write_text(json.dumps([network_doc]))

    for args, name in (
        (("--fail-on", "none"), "live"),
        ((str(tmp_path / "containers.json"), str(tmp_path / "networks.json"), "--fail-on", "none"), "saved"),
    ):
        out = tmp_path / f"{name}.html"
        proc = cli("scan", *args, "-q", "-o", str(out), "-o", str(tmp_path / f"{name}.json"))
        assert proc.returncode == 0, proc.stderr
        doc = json.loads((tmp_path / f"{name}.json").read_text())
        opened = open_report(out)
        opened.assert_quiet()
        assert not_pwned(opened)
        assert_summary_matches(opened, doc)
        text = opened.page.inner_text("#findings")
        assert f"project {XSS_ATTR}" in text
        if name == "saved":
            assert f"container/{XSS_NAME}" in text
            box = f'svg.topo g.box[data-resource="container/{XSS_NAME}"]'
            assert opened.page.text_content(f"{box} text.name") == XSS_NAME[:25] + "…"  # long names are cut
            assert opened.page.text_content(f"{box} > title").startswith(f"container {XSS_NAME} (running)")
            assert XSS_ATTR in opened.page.text_content("svg.topo")
        opened.page.fill("#filter-text", XSS_NAME.lower())
        assert opened.visible_findings() == indices(
            doc, lambda f: XSS_NAME in f["message"] or XSS_NAME in f["resource"]["name"]
        )
        assert not_pwned(opened)


def test_compose_scan_rendered_later_with_auditor_report(open_report, tmp_path):
    proc = cli("scan", str(FIXTURES / "shop"), "--fail-on", "high", "-q", "-o", str(tmp_path / "scan.json"))
    assert proc.returncode == 1, proc.stderr  # the host-network worker fails the gate
    done = cli("report", str(tmp_path / "scan.json"), "-o", str(tmp_path / "report.html"))
    assert done.returncode == 0, done.stderr
    doc = json.loads((tmp_path / "scan.json").read_text())
    opened = open_report(tmp_path / "report.html")
    opened.assert_quiet()
    assert_summary_matches(opened, doc)
    assert opened.page.inner_text("#verdict strong").lower() == "failed"
    assert exposure_of(opened, "service/web") == "exp-all"
    assert exposure_of(opened, "service/admin") == "exp-loopback"
    assert exposure_of(opened, "service/db") == "exp-unpublished"
    assert exposure_of(opened, "service/worker") == "exp-host"
    assert "shared" in opened.page.get_attribute(
        'svg.topo g.net[data-resource="network/shop_frontend"]', "class"
    )
    assert_filter(opened, doc, "rule", "NET003", lambda f: f["rule_id"] == "NET003")
    assert_filter(opened, doc, "resource", "service/web", lambda f: f["resource"]["name"] == "web")
    assert_filter(opened, doc, "source", "compose", lambda f: True)
    opened.page.fill("#filter-text", "compose.yaml:22")
    assert opened.visible_findings() == indices(doc, lambda f: f["location"]["line"] == 22)
    not_checked = opened.page.inner_text("#targets .not-checked")
    assert "daemon userland-proxy setting" in not_checked
    opened.assert_quiet()


def test_builder_hostile_names_stay_inert(open_report, tmp_path):
    snap = snapshot(
        container(XSS_NAME, ports=[port(80, 8080)], networks=(XSS_ATTR,), labels={"x": XSS_LABEL})
    )
    out = tmp_path / "x.html"
    out.write_text(html.render_html(scan_result(snap)))
    opened = open_report(out)
    opened.assert_quiet()
    assert not_pwned(opened)
    assert opened.page.eval_on_selector_all("script", "els => els.length") == 2
    assert XSS_NAME in opened.page.inner_text("#findings")


def test_thousand_findings_stay_usable(open_report, tmp_path):
    many = [
        # four separate ports (not one contiguous range, which would be one finding)
        container(
            f"svc{i:03}", ports=[port(80 + 10 * p, 10000 + i * 4 + p) for p in range(4)], networks=("mesh",)
        )
        for i in range(250)
    ]
    result = scan_result(snapshot(*many), rule_ids={"PORT001"})
    assert len(result.findings) == 1000
    out = tmp_path / "big.html"
    out.write_text(html.render_html(result))
    opened = open_report(out)
    opened.assert_quiet()
    assert opened.tile("total") == 1000
    assert (
        opened.page.eval_on_selector_all("details.finding[open]", "els => els.length") == 0
    )  # starts collapsed
    opened.select("resource", "container/svc123")
    visible = opened.visible_findings()
    assert len(visible) == 4 and all(result.findings[int(i)].resource.name == "svc123" for i in visible)
    opened.page.click("#filter-reset")
    opened.page.click("#expand-all")
    assert opened.page.eval_on_selector_all("details.finding[open]", "els => els.length") == 1000
    assert opened.page.inner_text("svg.topo + p").startswith("170 more containers not drawn")


def test_dark_mode_and_print_styles(open_report, tmp_path):
    out = tmp_path / "r.html"
    out.write_text(html.render_html(scan_result(snapshot(container("web", ports=[port(80, 8080)])))))
    opened = open_report(out)
    page = opened.page
    background = "() => getComputedStyle(document.documentElement).backgroundColor"
    page.emulate_media(color_scheme="light")
    light = page.evaluate(background)
    page.emulate_media(color_scheme="dark")
    assert page.evaluate(background) == "rgb(15, 19, 24)" != light
    page.emulate_media(media="print")
    assert page.evaluate("() => getComputedStyle(document.querySelector('.filters')).display") == "none"
    page.emulate_media(media="screen")
    page.click("#collapse-all")
    page.evaluate("() => window.dispatchEvent(new Event('beforeprint'))")
    assert page.eval_on_selector_all("details.finding:not([open])", "els => els.length") == 0
    opened.assert_quiet()


def test_topology_colours_what_the_firewall_analysis_found_reachable_from_outside(open_report, tmp_path):
    from support.scan_fixtures import raw_of

    from auditor.collectors.raw import dumps

    paths = []
    for name in ("unknown-match", "user-port"):  # an undecided DOCKER-USER match; DOCKER-USER drops
        paths.append(tmp_path / f"{name}.json")
        paths[-1].write_text(dumps(raw_of(name)))
    proc = cli("scan", *map(str, paths), "--fail-on", "none", "-q", "-o", str(tmp_path / "report.html"))
    assert proc.returncode == 0, proc.stderr
    opened = open_report(tmp_path / "report.html")
    opened.assert_quiet()
    page = opened.page

    def box(target: str, name: str) -> str:
        return f'svg.topo[aria-label="Network topology of {target}"] g.box[data-resource="container/{name}"]'

    def stroke(selector: str) -> str:
        return page.eval_on_selector(selector, "el => getComputedStyle(el).stroke")

    assert page.get_attribute(box("unknown-match", "web"), "class") == "box reach-reachable"
    assert page.get_attribute(box("unknown-match", "cache"), "class") == "box reach-unknown"
    assert page.get_attribute(box("user-port", "cache"), "class") == "box reach-blocked"
    assert exposure_of(opened, "container/cache") == "exp-unpublished"  # what was asked for stays said
    scheme_dark = page.evaluate("() => matchMedia('(prefers-color-scheme: dark)').matches")
    colours = ("rgb(248, 113, 113)", "rgb(251, 191, 36)", "rgb(74, 222, 128)") if scheme_dark else (
        "rgb(185, 28, 28)", "rgb(217, 119, 6)", "rgb(21, 128, 61)")  # fmt: skip
    assert stroke(box("unknown-match", "web") + " > rect") == colours[0]
    assert stroke(box("unknown-match", "cache") + " > rect") == colours[1]
    assert stroke(box("user-port", "cache") + " > rect") == colours[2]
    # an unpublished container that outside clients may reach is linked to the host band
    undecided_links = page.locator(
        'svg.topo[aria-label="Network topology of unknown-match"] line.uplink.reach-unknown'
    )
    assert undecided_links.count() == 2  # cache and db (its 127.0.0.1 port is undecided from the LAN)
    assert (
        page.locator('svg.topo[aria-label="Network topology of user-port"] line.uplink.reach-blocked').count()
        == 0
    )
    legend = page.inner_text("#topology .legend")
    assert "reachable from outside the host (firewall analysed)" in legend
    assert "blocked from outside by the host's firewall" in legend
    assert page.text_content(box("user-port", "cache") + " > title").endswith(
        ", from outside the host: blocked"
    )
