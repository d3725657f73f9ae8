"""Browser journey: a 客服部 employee sees the unread badge, opens a notice and confirms 已阅 in
place (no page load), and the issuing department's head sees the receipt in the statistics."""

import pytest

from tests.browser import requires_chromium

pytestmark = [pytest.mark.browser, requires_chromium, pytest.mark.django_db(transaction=True)]


def test_employee_confirms_notice_in_place_and_statistics_show_it(journey, org):
    from notices.demo import ensure_categories
    from notices.factories import make_notice
    from notices.models import NoticeReceipt

    ensure_categories()
    notice = make_notice(
        title="关于春节期间值班安排的通知",
        slug="chunjie-zhiban",
        issuing_department=org.depts["service"],
        departments=[org.depts["service"]],
        requires_confirmation=True,
        user=org.users["admin"],
    )

    j = journey("notices").login("cs_staff")
    page = j.goto("/")
    notices_link = page.locator(".site-nav a", has_text="通告")
    assert notices_link.locator(".badge").inner_text().strip() == "1"  # one unread notice
    j.screenshot("home-badge")

    page = j.goto("/notices/")
    page.click(f"text={notice.title}")
    page.wait_for_load_state("networkidle")
    assert notice.title in page.locator("h1").first.inner_text()
    j.screenshot("notice")

    # 已阅 is sent in the background: the page (and this marker on its window) stays.
    page.evaluate("window.__journeyMarker = 'still-here'")
    url_before = page.url
    page.click(".notice-confirm-form button[type=submit]")
    page.wait_for_selector(".notice-confirm.is-confirmed")
    assert page.evaluate("window.__journeyMarker") == "still-here"
    assert page.url == url_before
    assert "已确认" in page.locator(".notice-confirm").inner_text()
    j.screenshot("confirmed")
    assert NoticeReceipt.objects.filter(notice=notice, user=org.users["cs_staff"]).count() == 1

    page = j.goto("/")  # the badge is gone once the notice is read and confirmed
    assert page.locator(".site-nav a", has_text="通告").locator(".badge").count() == 0

    # The head of the issuing department (客服部) reads the statistics.
    head = journey("notices-stats").login("cs_head")
    page = head.goto(f"/notices/statistics/{notice.pk}/?all=1")
    summary = page.locator(".notice-stats-summary .ok dd").inner_text().strip()
    assert summary == "1"
    people = page.locator("#people ~ .table-scroll table.data").inner_text()
    assert org.users["cs_staff"].name in people
    head.screenshot("statistics")
