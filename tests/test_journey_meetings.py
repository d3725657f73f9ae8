"""Browser journey (the issue's "done when"): a department head requests a meeting, the
coordinator approves it, participants answer and sign in on the phone, the secretary writes
minutes with three decisions, the participating department signs, the chair approves,
participants confirm 已阅, the decisions are in the owners' 部门待办, one goes overdue and
reaches the 分管领导, and the 督办周报 shows it."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

import pytest

from tests.browser import PHONE, requires_chromium

pytestmark = [pytest.mark.browser, requires_chromium, pytest.mark.django_db(transaction=True)]


def test_meeting_from_request_to_overdue_decision_in_the_weekly_report(journey, org, calendar_2026):
    from meetings import services
    from meetings.demo import seed_types
    from meetings.models import Decision, Meeting, MeetingType, Minutes
    from portal.notifications.models import Notification

    seed_types(log=lambda *a: None)
    # The administrator's configuration: 专题协调会 approved by the coordinator, chaired by leader.
    MeetingType.objects.filter(code="topic").update(approver="coordinator", default_chair=org.users["leader"])
    start = timezone.localtime() + dt.timedelta(days=10)
    start = start.replace(hour=14, minute=0, second=0, microsecond=0)

    # 1. eng_head requests it.
    head = journey("meetings-request").login("eng_head")
    page = head.goto("/meetings/new/")
    page.select_option("[name=mtype]", label="专题协调会")
    page.fill("[name=subject]", "漏水维修责任协调")
    page.fill("[name=reason]", "工程部与客服部对维修责任有分歧")
    page.fill("[name=start]", start.strftime("%Y-%m-%dT%H:%M"))
    page.fill("[name=end]", (start + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    page.select_option("[name=room]", label="一号会议室")
    page.check(f"[name=departments][value='{org.depts['engineering'].pk}']")
    page.check(f"[name=departments][value='{org.depts['service'].pk}']")
    page.fill("[name=lead_time_reason]", "")
    head.screenshot("form")
    page.click("#request-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "待审批" in page.content()
    meeting = Meeting.objects.get(subject="漏水维修责任协调")
    assert meeting.approver_user == org.users["coordinator"]
    head.screenshot("requested")

    # 2. The coordinator approves it; participants are notified.
    coord = journey("meetings-approve").login("coordinator")
    page = coord.goto(f"/meetings/{meeting.pk}/")
    page.click("#decide-form button[value=approve]")
    page.wait_for_load_state("networkidle")
    assert "已安排" in page.content()
    coord.screenshot("approved")
    assert Notification.objects.filter(kind="meeting.notice", recipient=org.users["cs_head"]).exists()

    # 3. cs_head answers 参加.
    cs = journey("meetings-answer").login("cs_head")
    page = cs.goto(f"/meetings/{meeting.pk}/")
    page.check("#respond-form [name=response][value=attend]")
    page.click("#respond-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "已答复" in page.content()
    # The organiser sees who answered.
    page = head.goto(f"/meetings/{meeting.pk}/")
    assert "参加" in page.locator("#participants").inner_text()

    # 4. The meeting starts (the clock is moved, not waited for); cs_head scans the QR on the phone.
    now = timezone.now()
    Meeting.objects.filter(pk=meeting.pk).update(start=now - dt.timedelta(minutes=5), end=now + dt.timedelta(hours=1))
    meeting.refresh_from_db()
    cs.page.set_viewport_size(PHONE)
    page = cs.goto(f"/meetings/{meeting.pk}/sign-in/{meeting.checkin_token}/")
    page.click("#sign-in button")
    page.wait_for_load_state("networkidle")
    assert "签到成功" in page.content()
    cs.screenshot("signed-in")
    cs.page.set_viewport_size({"width": 1280, "height": 900})
    # A stranger using the same code is refused, recorded, never a server error.
    stranger = journey("meetings-stranger").login("fin_staff")
    page = stranger.goto(f"/meetings/{meeting.pk}/sign-in/{meeting.checkin_token}/")
    page.click("#sign-in button")
    page.wait_for_load_state("networkidle")
    assert "不在本次会议的参会名单中" in page.content()

    # 5. The secretary (the organiser) writes minutes with three decisions and submits them.
    page = head.goto(f"/meetings/{meeting.pk}/minutes/")
    assert "林晓燕" in page.content()  # cs_head listed as present from the sign-in
    page.fill("[name=summary]", "明确漏水维修责任与时限。")
    due = (timezone.localdate() + dt.timedelta(days=5)).isoformat()
    rows = [("工程部三日内完成漏点检测", "engineering"), ("客服部通知受影响业主", "service"),
            ("工程部提交维修方案", "engineering")]
    for i, (text, dept) in enumerate(rows):
        page.fill(f"[name=d-{i}-text]", text)
        page.select_option(f"[name=d-{i}-department]", value=str(org.depts[dept].pk))
        page.fill(f"[name=d-{i}-due_date]", due)
    head.screenshot("minutes-editor")
    page.click("button[name=submit][value='1']")
    page.wait_for_load_state("networkidle")
    assert "待会签" in page.content()

    # 6. 客服部 signs; 7. the chair approves and publishes.
    page = cs.goto(f"/meetings/{meeting.pk}/")
    page.click("button[value=sign_off]")
    page.wait_for_load_state("networkidle")
    assert "已会签" in page.content()
    chair = journey("meetings-chair").login("leader")
    page = chair.goto(f"/meetings/{meeting.pk}/")
    page.click("button[value=publish]")
    page.wait_for_load_state("networkidle")
    assert "已发布" in page.content()
    chair.screenshot("published")
    decisions = list(Decision.objects.filter(meeting=meeting).select_related("matter"))
    assert len(decisions) == 3 and all(d.matter for d in decisions)

    # 8. cs_head confirms 已阅; the decision is in 客服部's 部门待办.
    page = cs.goto(f"/meetings/{meeting.pk}/")
    page.click("button[value=read]")
    page.wait_for_load_state("networkidle")
    assert Minutes.objects.get(meeting=meeting).receipts.filter(user=org.users["cs_head"]).exists()
    page = cs.goto("/matters/todo/")
    assert "客服部通知受影响业主" in page.content()
    cs.screenshot("todo")

    # 9. One decision goes overdue and reaches 工程部's 分管领导; the 督办周报 shows it.
    late = next(d for d in decisions if d.text == "工程部提交维修方案")
    Decision.objects.filter(pk=late.pk).update(due_date=timezone.localdate() - dt.timedelta(days=1))
    assert services.escalate_overdue_decisions() == 1
    page = chair.goto("/inbox/")
    assert "会议决议逾期" in page.content()
    page = chair.goto("/meetings/weekly/")
    assert "工程部提交维修方案" in page.locator("#weekly").inner_text()
    chair.screenshot("weekly-report")
    page = chair.goto("/meetings/decisions/?state=overdue")
    assert "工程部提交维修方案" in page.locator("#ledger").inner_text()
    chair.screenshot("ledger-overdue")
