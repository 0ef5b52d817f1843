"""A real headless Chromium (Debian's) driven by Playwright, and a report opener that records
console errors and every request the page tries to make (all but file: are refused)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("AUDITOR_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator:
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        if os.environ.get("AUDITOR_REQUIRE_ENGINE") == "1":
            pytest.fail(
                f"Chromium is required for the browser tests but {CHROMIUM} is missing (scripts/setup-env.sh installs it)"
            )
        pytest.skip(f"no Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@dataclass
class OpenReport:
    """A report loaded in a page, with everything the page complained about or asked for."""

    page: object
    url: str
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def visible_findings(self) -> list[str]:
        """``data-index`` of each finding card that the filters leave visible."""
        return self.page.eval_on_selector_all(
            "details.finding", "els => els.filter(e => !e.hidden).map(e => e.dataset.index)"
        )

    def tile(self, name: str) -> int:
        return int(self.page.inner_text(f'[data-count="{name}"] .n'))

    def assert_quiet(self) -> None:
        """No console or page error, and no request beyond the report file itself."""
        assert self.console_errors == []
        assert self.requests == [self.url]

    def select(self, name: str, value: str) -> None:
        self.page.select_option(f"#filter-{name}", value)


@pytest.fixture
def open_report(browser) -> Iterator:
    contexts = []

    def opener(path: Path) -> OpenReport:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        opened = OpenReport(page, Path(path).resolve().as_uri())
        page.on("console", lambda m: opened.console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: opened.console_errors.append(f"page error: {e}"))
        page.on("request", lambda r: opened.requests.append(r.url))

        def refuse_network(route) -> None:
            if route.request.url.startswith("file:"):
                route.continue_()
            else:
                route.abort()

        context.route("**/*", refuse_network)
        page.goto(opened.url)
        page.wait_for_selector("html[data-ready='1']", timeout=30_000)
        return opened

    yield opener
    for context in contexts:
        context.close()
