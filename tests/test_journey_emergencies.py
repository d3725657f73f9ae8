"""Browser journey at phone width (390 px): a 管理处 employee reports 电梯困人 from the home
page in two taps, the on-duty 工程部 person sees the page in the inbox and acknowledges it
(the reporter's open timeline refreshes by itself), a missed 书面报告 pages the head and the
分管领导, the event is controlled and recovered, the review produces two 整改 matters and the
monthly figures show it."""

import datetime as dt

from django.utils import timezone

import pytest

from tests.browser import PHONE, requires_chromium

pytestmark = [pytest.mark.browser, requires_chromium, pytest.mark.django_db(transaction=True)]


def test_elevator_entrapment_from_report_to_review(journey, org, calendar_2026, tmp_path):
    from emergencies import services
    from emergencies.demo import seed_emergencies
    from emergencies.models import Emergency, Rectification
    from emergencies.sweep import sweep
    from emergencies.testing import png_bytes
    from portal.notifications.models import Notification

    seed_emergencies(lambda *a: None)
    Emergency.objects.all().delete()  # keep the rosters and types, start without demo events
    photo = tmp_path / "电梯.png"
    photo.write_bytes(png_bytes())

    # 1. site_staff, on a phone: home page -> report button -> one screen -> 立即上报.
    staff = journey("emergency-report").login("site_staff")
    staff.page.set_viewport_size(PHONE)
    page = staff.goto("/")
    page.click("#report-emergency")
    page.wait_for_load_state("networkidle")
    page.check("text=电梯困人")
    page.select_option("[name=site]", label="阳光花园管理处")
    page.fill("[name=location]", "3 号楼 2 号电梯")
    page.fill("[name=description]", "停在 8-9 层之间，2 人被困")
    page.set_input_files("[name=photos]", str(photo))
    staff.screenshot("form")
    page.click("form.report-form button[type=submit]")
    page.wait_for_selector("text=值班人员已收到呼叫")
    e = Emergency.objects.get()
    assert e.number in page.content()
    assert e.photos.count() == 1
    staff.screenshot("reported")

    # 2. The on-duty 工程部 person (demo roster) finds the page in the inbox and acknowledges.
    on_duty = e.paged.filter(reason="duty", department__code="engineering").select_related("user").first()
    assert on_duty is not None
    responder = journey("emergency-ack").login(on_duty.user.username)
    responder.page.set_viewport_size(PHONE)
    page = responder.goto("/inbox/")
    assert "电梯困人" in page.content()
    responder.screenshot("inbox")
    page = responder.goto(e.get_absolute_url())
    page.click("#acknowledge")
    page.wait_for_selector("text=已响应，请尽快到场处置")
    responder.screenshot("acknowledged")

    # The reporter's page refreshes the timeline by itself (polling), no reload.
    staff.page.wait_for_selector("#timeline >> text=已响应，正在处置", timeout=40_000)

    # 3. Nobody posts the 书面报告 within the hour: the sweep (clock moved, not slept) pages
    #    the heads and the 分管领导, once.
    sweep(e.reported_at + dt.timedelta(minutes=61))
    sweep(e.reported_at + dt.timedelta(minutes=62))
    for who in ("eng_head", "leader"):
        assert Notification.objects.filter(recipient=org.users[who], kind=services.KIND_ESCALATED,
                                           channel="inbox", title__contains="书面报告").count() == 1

    # 4. Controlled, then recovered, from the phone.
    page = responder.goto(e.get_absolute_url())
    page.select_option("[name=kind]", "progress")
    page.fill("#update-form [name=text]", "维保单位到场，已救出被困人员")
    page.click("#update-form button[type=submit]")
    page.wait_for_selector("text=已发布")
    page.click("#mark-controlled")
    page.wait_for_selector("#status >> text=已控制")
    page.click("#mark-recovered")
    page.wait_for_selector("#status >> text=已恢复")
    responder.screenshot("recovered")

    # 5. The 工程部 head writes the review; two 整改 measures become matters.
    head = journey("emergency-review").login("eng_head")
    page = head.goto(e.get_absolute_url())
    due = (timezone.localdate() + dt.timedelta(days=14)).isoformat()
    page.fill("[name=cause]", "门机控制板老化")
    page.fill("[name=measures]", f"更换 2 号电梯门机控制板 | eng_head | {due}\n困人应急演练 | sec_head | {due}")
    page.click("#review-form button[type=submit]")
    page.wait_for_selector("text=复盘报告已提交")
    head.screenshot("reviewed")
    assert Rectification.objects.filter(review__emergency=e, matter__isnull=False).count() == 2

    # 6. The monthly figures count it.
    page = head.goto("/emergencies/figures/?month=" + timezone.localtime(e.reported_at).strftime("%Y-%m"))
    assert "电梯困人" in page.content()
    head.screenshot("figures")
