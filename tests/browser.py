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
        self.context.set_default_timeout(15_000)  # fail fast: no step here should take seconds
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
            if "/admin/" in self.page.url:
                self.page.wait_for_timeout(400)  # Wagtail's sidebar animates to the new width
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


def seed_fault_form():
    """The 故障转呈单 form page and the demo routing rules and time limits (no other demo data)."""
    from forms.demo import FORMS, ensure_form, ensure_index
    from matters.demo import seed_rules

    quiet = lambda *a: None  # noqa: E731
    spec = next(s for s in FORMS if s["slug"] == "guzhang-zhuancheng")
    page = ensure_form(ensure_index(quiet), spec, quiet)
    seed_rules(quiet)
    return page


def submit_fault_report(
    j: Journey, *, title: str, urgency: str = "medium", photo=None, extra=None, extra_select=None
) -> str:
    """Fill in and send the 故障转呈单 as the logged-in 管理处 employee; returns the reference shown."""
    page = j.goto("/forms/guzhang-zhuancheng/")
    page.fill("[name=gu_zhang_biao_ti]", title)
    page.select_option("[name=suo_zai_guan_li_chu]", label="阳光花园管理处")
    page.fill("[name=gu_zhang_wei_zhi]", "3 号楼地下室")
    page.fill("[name=fa_sheng_shi_jian]", "2026-11-20T09:30")
    page.check(f"input[name=jin_ji_cheng_du][value={urgency}]")
    page.fill("[name=gu_zhang_miao_shu]", f"{title}，管理处无法自行处理。")
    page.fill("[name=yi_cai_qu_cuo_shi]", "已设置警示标志")
    for name, value in (extra or {}).items():
        page.fill(f"[name={name}]", value)
    for name, value in (extra_select or {}).items():
        page.select_option(f"[name={name}]", value)
    if photo is not None:
        page.set_input_files("[name=xian_chang_zhao_pian]", str(photo))
    page.click("form.portal-form button[type=submit]")
    page.wait_for_selector("[data-reference]")
    return page.locator("[data-reference]").inner_text().strip()
