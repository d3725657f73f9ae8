"""The issue's "done when": with the demo rules, a 故障转呈单 from site_staff is routed to 工程部,
accepted by eng_head, reminded and escalated on time by the sweep, resolved and confirmed; an
administrator's change to a rule decides the next submission. The demo seed is idempotent."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

import pytest

from forms.demo import seed_forms, submit
from forms.models import FormPage
from matters.demo import seed_matters
from matters.models import Matter, MatterStatus
from matters.rule_models import RoutingRule
from matters.sweep import sweep
from portal.notifications.models import Notification


@pytest.fixture
def demo(org, calendar_2026, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        seed_forms(log=lambda *a: None)
        seed_matters(log=lambda *a: None)
    return FormPage.objects.get(slug="guzhang-zhuancheng")


def fault(page, user, urgency):
    keys = {f.label: f.clean_name for f in page.form_fields.all()}
    return submit(
        page,
        user,
        {
            keys["故障标题"]: "消防泵房漏水",
            keys["所在管理处"]: user.department_id,
            keys["故障位置"]: "B1",
            keys["发生时间"]: "2026-09-16T09:00",
            keys["紧急程度"]: urgency,
            keys["故障描述"]: "漏水严重",
            keys["已采取措施"]: "已关阀",
        },
    )


def test_seed_is_idempotent_and_covers_every_state(demo):
    counts = (Matter.objects.count(), RoutingRule.objects.count())
    seed_matters(log=lambda *a: None)
    assert (Matter.objects.count(), RoutingRule.objects.count()) == counts
    states = set(Matter.objects.values_list("status", flat=True))
    assert states >= {"routed", "accepted", "in_progress", "resolved", "confirmed", "returned", "archived"}
    assert not Matter.objects.filter(status=MatterStatus.SUBMITTED).exists()
    assert any(m.is_overdue for m in Matter.objects.all())
    assert RoutingRule.objects.filter(is_fallback=True).count() == 1
    assert all(not r.warnings for r in RoutingRule.objects.all())


def test_fault_report_journey_with_the_demo_rules(demo, org, login, django_capture_on_commit_callbacks):
    site, head, staff, leader, gm = (org.users[u] for u in ["site_staff", "eng_head", "eng_staff", "leader", "gm"])
    with django_capture_on_commit_callbacks(execute=True):
        sub = fault(demo, site, "high")
    m = Matter.objects.get(pk=sub.matter_id)
    assert m.status == MatterStatus.ROUTED and m.lead_department == org.depts["engineering"]
    assert m.routing_rule.name == "故障转呈单：紧急 → 工程部"
    assert Notification.objects.filter(recipient=leader, kind="matter.copy").exists()  # 分管领导 copied
    # Acceptance within 1 working day.
    from portal.workdays import WorkCalendar

    assert m.accept_due == WorkCalendar().add_working_days(m.routed_at, 1).at
    page = login(head).get(m.get_absolute_url()).content.decode()
    assert "为什么分派给我们" in page and "紧急程度" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = login(head).post(reverse("matters:act", args=[m.pk, "accept"]), {"accept-handler": staff.pk})
    assert response.status_code == 302
    m.refresh_from_db()
    assert m.status == MatterStatus.ACCEPTED
    def sent(user, kind):
        return Notification.objects.filter(
            recipient=user, kind=kind, channel="inbox", event_key__startswith=f"matter:{m.pk}:"
        ).count()

    # The worker's sweep: a warning before the resolution deadline, the breach, then 分管领导 and GM.
    due = m.resolve_due
    sweep(now=due - dt.timedelta(minutes=1))
    reminders = Notification.objects.filter(
        recipient=staff, kind="matter.reminder", channel="inbox", event_key__startswith=f"matter:{m.pk}:"
    )
    assert reminders.filter(event_key__endswith=":warn").count() == 1  # urgent: daily progress reminders too
    assert reminders.filter(event_key__contains=":progress:").exists()
    sweep(now=due + dt.timedelta(minutes=1))
    assert sent(head, "matter.overdue") == 1 and sent(leader, "matter.escalated") == 0
    cal = WorkCalendar()
    sweep(now=cal.add_working_days(due - dt.timedelta(seconds=1), 1).at + dt.timedelta(minutes=1))
    assert sent(leader, "matter.escalated") == 1 and sent(gm, "matter.escalated") == 0
    sweep(now=cal.add_working_days(due - dt.timedelta(seconds=1), 3).at + dt.timedelta(minutes=1))
    assert sent(gm, "matter.escalated") == 1 and sent(head, "matter.overdue") == 1
    client = login(staff)
    client.post(reverse("matters:act", args=[m.pk, "resolve"]), {"resolve-text": "已更换密封圈"})
    m.refresh_from_db()
    assert m.status == MatterStatus.RESOLVED
    login(site).post(reverse("matters:act", args=[m.pk, "confirm"]), {"confirm-text": "确认"})
    m.refresh_from_db()
    assert m.status == MatterStatus.CONFIRMED


def test_an_administrators_rule_change_decides_the_next_submission(demo, org, django_capture_on_commit_callbacks):
    rule = RoutingRule.objects.get(name="故障转呈单：紧急 → 工程部")
    rule.lead_department = org.depts["security"]
    rule.save()
    with django_capture_on_commit_callbacks(execute=True):
        sub = fault(demo, org.users["site_staff"], "high")
    m = Matter.objects.get(pk=sub.matter_id)
    assert m.lead_department == org.depts["security"] and m.routing_version == 2
    with django_capture_on_commit_callbacks(execute=True):
        sub = fault(demo, org.users["site_staff"], "low")
    assert Matter.objects.get(pk=sub.matter_id).routing_rule.name == "故障转呈单 → 工程部"
