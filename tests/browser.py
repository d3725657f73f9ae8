"""Browser journeys: Playwright for Python driving Debian's chromium against pytest-django's live server.

Screenshots go to tests/screenshots/ at phone (390 px) and desktop (1280 px) widths.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

requires_chromium = pytest.mark.skipif(
    not (Path(CHROMIUM).exists() or shutil.which("chromium")),
    reason="Debian's chromium is not installed (apt-get install chromium); .ci/run installs it",
)


@pytest.fixture(scope="session")
def browser():
    # Playwright's sync API runs an event loop in this thread; the live server's ORM calls from
    # the test body are still synchronous, so Django's async guard is relaxed for browser tests.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


class Journey:
    """A logged-in browser page with helpers for screenshots at both widths."""

    def __init__(self, browser, base_url: str, name: str):
        self.browser, self.base_url, self.name = browser, base_url, name
        self.context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
        self.page = self.context.new_page()
        self.shot_count = 0

    def login(self, username: str, password: str = "demo1234"):  # noqa: S107 - demo credential
        self.page.goto(self.base_url + "/accounts/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", password)
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state("networkidle")
        return self

    def goto(self, path: str):
        self.page.goto(self.base_url + path)
        self.page.wait_for_load_state("networkidle")
        return self.page

    def screenshot(self, label: str):
        """Save the current page at desktop and phone widths."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.shot_count += 1
        stem = f"{self.name}-{self.shot_count:02d}-{label}"
        for width_name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            self.page.set_viewport_size(viewport)
            self.page.screenshot(path=str(SCREENSHOTS / f"{stem}-{width_name}.png"), full_page=True)
        self.page.set_viewport_size(DESKTOP)

    def close(self):
        self.context.close()


@pytest.fixture
def journey(browser, live_server, request):
    opened = []

    def _open(name: str | None = None) -> Journey:
        j = Journey(browser, live_server.url, name or request.node.name)
        opened.append(j)
        return j

    yield _open
    for j in opened:
        j.close()
