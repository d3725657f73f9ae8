"""Browser journey: signing in to the Chinese home page, at phone and desktop widths."""

import pytest

from tests.browser import requires_chromium

pytestmark = [pytest.mark.browser, requires_chromium, pytest.mark.django_db(transaction=True)]


def test_employee_signs_in_and_sees_the_home_page(journey, org):
    j = journey("login")
    j.goto("/notices/")
    assert "/accounts/login/" in j.page.url  # the intranet asks for a login first
    j.screenshot("login-page")
    j.page.fill("#id_username", "cs_staff")
    j.page.fill("#id_password", "wrong-password")
    j.page.click("button[type=submit]")
    assert "请输入一个正确的" in j.page.content()
    j.page.fill("#id_password", "demo1234")
    j.page.click("button[type=submit]")
    j.page.wait_for_load_state("networkidle")
    assert "/accounts/login/" not in j.page.url
    j.goto("/")
    assert j.page.locator("h1").first.inner_text() == "协调门户首页"
    j.screenshot("home")
    # At phone width the navigation folds behind the menu button and opens on tap.
    j.page.set_viewport_size({"width": 390, "height": 844})
    assert not j.page.locator(".site-nav").is_visible()
    j.page.click(".nav-toggle-label")
    assert j.page.locator(".site-nav").is_visible()
