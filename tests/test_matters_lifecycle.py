"""A routed matter's life: deadlines on the working-day calendar, permissions, transitions,
the reminder/escalation sweep, recomputation on calendar change, ledgers and figures."""

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.urls import reverse

import pytest

from matters import lifecycle, services
from matters.ledger import monthly_figures
from matters.models import Matter, MatterEvent, MatterStatus
from matters.routing import Decision, ensure_fallback_rule
from matters.rule_models import DeadlinePolicy
from matters.sweep import sweep
from portal.notifications.models import Notification

TZ = ZoneInfo("Asia/Shanghai")


def at(day, hour, minute=0):
    return dt.datetime(2026, 9, day, hour, minute, tzinfo=TZ)


@pytest.fixture
def policy(db):
    return DeadlinePolicy.objects.create(
        name="标准时限", accept_within=1, progress_every=2, progress_every_urgent=1, resolve_normal=1,
        resolve_important=3, resolve_major=3, confirm_within=3, remind_before_hours=4,
        escalate_leader_after=1, escalate_gm_after=3,
    )


def routed(org, policy, when, *, dept="engineering", grade="normal", urgency="medium", title="水泵故障"):
    decision = Decision(None, "测试规则", 1, org.depts[dept].pk, [], False, False, grade, policy.pk, ["测试"])
    with transaction.atomic():  # routed by this decision before the on-commit routing sees it
        matter = services.open_matter(title=title, submitter=org.users["site_staff"], urgency=urgency, when=when)
        lifecycle.route_matter(matter, decision=decision, when=when)
    matter.refresh_from_db()
    return matter


def test_deadlines_follow_the_chinese_calendar_and_are_all_shown(org, calendar_2026, policy):
    m = routed(org, policy, at(30, 10))  # 2026-09-30 + 1 working day = 2026-10-08 (National Day)
    assert m.accept_due == dt.datetime(2026, 10, 8, 17, 30, tzinfo=TZ)
    assert not m.deadlines_provisional
    lifecycle.accept(m, org.users["eng_head"], handler=org.users["eng_staff"], commitment_date=None,
                     when=dt.datetime(2026, 10, 9, 9, 0, tzinfo=TZ))
    m.refresh_from_db()
    # 10-09 + 1 working day = 10-10, a make-up Saturday.
    assert m.resolve_due == dt.datetime(2026, 10, 10, 17, 30, tzinfo=TZ)
    labels = [r["label"] for r in lifecycle.deadline_rows(m)]
    assert labels[:3] == ["受理时限", "下次进度更新", "办结时限"]
    assert lifecycle.deadline_rows(m)[0]["late"]  # accepted after its deadline


def test_provisional_deadline_in_an_unknown_year_is_recomputed_when_the_calendar_changes(org, policy):
    from portal.models import WorkDay
    from portal.signals import calendar_changed

    when = dt.datetime(2027, 2, 5, 10, tzinfo=TZ)  # a Friday; 2027 is not in the calendar
    m = routed(org, policy, when)
    assert m.deadlines_provisional and m.accept_due == dt.datetime(2027, 2, 8, 17, 30, tzinfo=TZ)
    WorkDay.objects.create(date=dt.date(2027, 2, 8), is_workday=False)  # a holiday is announced
    WorkDay.objects.create(date=dt.date(2027, 2, 9), is_workday=True)
    calendar_changed.send(sender=None, years={2027})  # django-q2 runs sync in tests
    m.refresh_from_db()
    assert m.accept_due == dt.datetime(2027, 2, 9, 17, 30, tzinfo=TZ)
    assert not m.deadlines_provisional


def test_clock_hour_policy_for_emergencies(org, calendar_2026):
    emergency = DeadlinePolicy.objects.create(name="紧急", unit="clock", accept_within="0.5", resolve_normal=2,
                                              progress_every=4, progress_every_urgent=4)
    m = routed(org, emergency, dt.datetime(2026, 9, 19, 22, 0, tzinfo=TZ))  # a Saturday night
    assert m.accept_due == dt.datetime(2026, 9, 19, 22, 30, tzinfo=TZ)


def test_whole_life_with_permissions(org, calendar_2026, policy, login):
    m = routed(org, policy, at(16, 10))
    head, staff, site = org.users["eng_head"], org.users["eng_staff"], org.users["site_staff"]
    # Someone from another department gets a Chinese 403 and nothing changes.
    outsider = login(org.users["cs_staff"])
    response = outsider.post(reverse("matters:act", args=[m.pk, "accept"]), {"accept-handler": staff.pk})
    assert response.status_code == 403 and "无权" in response.content.decode()
    with pytest.raises(services.NotAllowed):
        lifecycle.accept(m, org.users["cs_head"], handler=staff, commitment_date=None)
    # A disallowed transition is refused with a message and changes nothing.
    with pytest.raises(services.WrongState):
        lifecycle.resolve(m, head, "已修好")
    assert Matter.objects.get(pk=m.pk).status == MatterStatus.ROUTED
    client = login(head)
    response = client.post(reverse("matters:act", args=[m.pk, "resolve"]), {"resolve-text": "x"}, follow=True)
    assert "不能执行此操作" in response.content.decode()
    assert Matter.objects.get(pk=m.pk).status == MatterStatus.ROUTED
    # The head accepts through the page, naming a handler and a commitment date.
    response = client.post(
        reverse("matters:act", args=[m.pk, "accept"]),
        {"accept-handler": staff.pk, "accept-commitment_date": "2099-01-01", "accept-text": "马上处理"},
    )
    assert response.status_code == 302
    m.refresh_from_db()
    assert m.status == MatterStatus.ACCEPTED and m.handler == staff and m.commitment_date == dt.date(2099, 1, 1)
    lifecycle.add_progress(m, staff, "已到场")
    lifecycle.resolve(m, staff, "已更换水泵")
    with pytest.raises(services.NotAllowed):
        lifecycle.confirm(m, org.users["cs_staff"])
    lifecycle.return_matter(m, site, "仍然漏水")
    m.refresh_from_db()
    assert m.status == MatterStatus.RETURNED and m.resolve_due is not None
    lifecycle.resolve(m, staff, "已再次维修")
    lifecycle.confirm(m, site, "好了")
    lifecycle.archive(m, org.users["coordinator"])
    m.refresh_from_db()
    assert m.status == MatterStatus.ARCHIVED and m.next_due_at is None
    kinds = list(MatterEvent.objects.filter(matter=m).values_list("kind", flat=True))
    assert kinds == ["created", "routed", "accepted", "progress", "resolved", "returned", "resolved", "confirmed", "archived"]
    from wagtail.models import ModelLogEntry

    assert ModelLogEntry.objects.filter(object_id=str(m.pk), action="matters.accepted").exists()


def test_reassign_needs_a_reason_and_moves_the_matter(org, calendar_2026, policy, django_capture_on_commit_callbacks):
    m = routed(org, policy, at(16, 10))
    with pytest.raises(services.InvalidInput):
        lifecycle.reassign(m, org.users["eng_head"], org.depts["security"], "")
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.reassign(m, org.users["eng_head"], org.depts["security"], "属于秩序部职责")
    m.refresh_from_db()
    assert m.lead_department == org.depts["security"] and m.status == MatterStatus.ROUTED
    assert Notification.objects.filter(recipient=org.depts["security"].head, kind="matter.routed").exists()


def test_waiting_for_the_submitter_pauses_the_clock(org, calendar_2026, policy):
    m = routed(org, policy, at(16, 10))
    lifecycle.pause_for_submitter(m, org.users["eng_head"], "请补充照片")
    m.refresh_from_db()
    assert m.next_due_at is None and m.paused_at is not None
    assert "supplement" in lifecycle.allowed_actions(m, org.users["site_staff"])
    before = m.accept_due
    Matter.objects.filter(pk=m.pk).update(paused_at=at(16, 11))  # paused for a known stretch
    m.refresh_from_db()
    lifecycle.resume(m, org.users["site_staff"], "照片已上传", action="supplement")
    m.refresh_from_db()
    assert m.paused_at is None and m.accept_due > before


def test_cooperating_department_adds_its_part(org, calendar_2026, policy):
    m = routed(org, policy, at(16, 10))
    m.cooperating_departments.add(org.depts["security"])
    lifecycle.cooperate(m, org.depts["security"].head, "已派人配合")
    assert MatterEvent.objects.filter(matter=m, kind="cooperation").exists()
    with pytest.raises(services.NotAllowed):
        lifecycle.cooperate(m, org.users["cs_staff"], "x")


def test_major_matter_escalates_at_once(org, calendar_2026, policy, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        m = routed(org, policy, at(16, 10), grade="major")
    assert m.escalation_level == 2
    assert Notification.objects.filter(recipient=org.users["leader"], kind="matter.escalated").exists()


# -- the sweep --------------------------------------------------------------------------------------


def keys(user):
    return sorted(Notification.objects.filter(recipient=user, channel="inbox").values_list("event_key", flat=True))


def test_sweep_reminds_then_escalates_on_time_and_only_once(org, calendar_2026, policy, django_capture_on_commit_callbacks):
    m = routed(org, policy, at(16, 10))  # accept by Thu 09-17 17:30
    head, leader, gm = org.users["eng_head"], org.users["leader"], org.users["gm"]
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep(now=at(17, 13))["actions"] == 0
        sweep(now=at(17, 14))  # 4 working hours before 17:30 is 13:30
        assert [k.rsplit(":", 1)[1] for k in keys(head)] == ["warn"]
        sweep(now=at(17, 14))
        assert len(keys(head)) == 1
        sweep(now=at(17, 18))  # breach: the department head
        assert len(keys(head)) == 2 and not keys(leader)
        sweep(now=at(18, 17, 29))
        assert not keys(leader)
        sweep(now=at(18, 17, 31))  # one working day after the breach: the 分管领导
        assert len(keys(leader)) == 1 and not keys(gm)
        # three working days after: Fri 18, Sun 20 (make-up day), Mon 21
        sweep(now=at(21, 17, 31))
        assert len(keys(gm)) == 1
        sweep(now=at(22, 9))
    m.refresh_from_db()
    assert m.escalation_level == 3 and m.next_due_at is None
    assert list(MatterEvent.objects.filter(matter=m, kind__in=["overdue", "escalated"]).values_list("kind", flat=True)) == [
        "overdue", "escalated", "escalated"
    ]


def test_sweep_auto_confirms_after_the_confirmation_window(org, calendar_2026, policy):
    m = routed(org, policy, at(16, 10))
    lifecycle.accept(m, org.users["eng_head"], handler=org.users["eng_staff"], commitment_date=None, when=at(16, 11))
    lifecycle.resolve(m, org.users["eng_staff"], "已修复", when=at(16, 15))
    m.refresh_from_db()
    assert m.confirm_due == at(20, 17, 30)  # 16 + 3 working days: 17, 18, 20 (a make-up Sunday)
    sweep(now=at(21, 18))
    m.refresh_from_db()
    assert m.status == MatterStatus.CONFIRMED
    event = MatterEvent.objects.get(matter=m, kind="confirmed")
    assert event.data["auto"] and "自动确认" in event.text


def test_sweep_routes_a_matter_left_unrouted(org, calendar_2026):
    ensure_fallback_rule()
    m = services.open_matter(title="x", submitter=org.users["site_staff"], when=at(16, 10))
    sweep(now=at(16, 11))
    m.refresh_from_db()
    assert m.status == MatterStatus.ROUTED


def test_sweep_reads_only_due_rows(org, calendar_2026, policy, django_assert_max_num_queries):
    for i in range(5):
        routed(org, policy, at(16, 10), title=f"m{i}")
    Matter.objects.update(next_due_at=at(30, 10))  # nothing due
    with django_assert_max_num_queries(6):
        assert sweep(now=at(17, 18))["matters"] == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_sweeping_at_once_send_each_reminder_once(org, calendar_2026, policy):
    matters = [routed(org, policy, at(16, 10), title=f"并发{i}") for i in range(30)]
    Notification.objects.all().delete()
    barrier = threading.Barrier(2)
    errors, results = [], []

    def worker():
        try:
            barrier.wait()
            results.append(sweep(now=at(18, 17, 31), batch=5))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sum(r["matters"] for r in results) == 30, results
    head = org.users["eng_head"]
    for m in matters:
        # warn + breach to the head, once each
        assert Notification.objects.filter(recipient=head, channel="inbox", event_key__startswith=f"matter:{m.pk}:").count() == 2
        assert MatterEvent.objects.filter(matter=m, kind="overdue").count() == 1
        assert MatterEvent.objects.filter(matter=m, kind="escalated").count() == 1


# -- ledgers and figures ----------------------------------------------------------------------------


def test_monthly_figures_match_a_hand_worked_example(org, calendar_2026, policy):
    head, staff = org.users["eng_head"], org.users["eng_staff"]
    a = routed(org, policy, at(16, 10), title="A")
    lifecycle.accept(a, head, handler=staff, commitment_date=None, when=at(17, 11))  # due 17 17:30: on time
    lifecycle.resolve(a, staff, "ok", when=at(18, 10))  # due 18 17:30: on time; 2 working days
    b = routed(org, policy, at(16, 10), title="B")
    lifecycle.accept(b, head, handler=staff, commitment_date=None, when=at(18, 9))  # late
    lifecycle.resolve(b, staff, "ok", when=at(24, 10))  # due 20 17:30 (make-up Sunday): late; 7 working days
    routed(org, policy, at(28, 10), title="C")  # never accepted: overdue now
    routed(org, policy, at(28, 10), dept="service", title="D")
    rows = {r.name: r for r in monthly_figures(2026, 9)}
    eng = rows["工程部"]
    assert (eng.received, eng.accepted, eng.accepted_on_time, eng.resolved, eng.resolved_on_time) == (3, 2, 1, 2, 1)
    assert eng.average_days == 4.5
    assert eng.overdue_now == 1
    assert rows["客服部"].received == 1
    # August had no activity; "overdue now" is a snapshot shown whatever the month.
    assert all(r.received == r.accepted == r.resolved == 0 for r in monthly_figures(2026, 8))


def test_ledger_filters_exports_and_keeps_a_constant_query_count(org, calendar_2026, policy, login, django_assert_max_num_queries):
    client = login(org.users["coordinator"])
    url = reverse("matters:ledger")
    routed(org, policy, at(16, 10))
    client.get(url)
    with django_assert_max_num_queries(40) as small:
        client.get(url)
    for i in range(15):
        m = routed(org, policy, at(16, 10), title=f"m{i}", dept="service" if i % 2 else "engineering")
        m.cooperating_departments.add(org.depts["security"])
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(url)
    assert response.status_code == 200 and "逾期" in response.content.decode()
    response = client.get(url, {"department": org.depts["service"].pk, "status": "open"})
    assert response.content.decode().count("m1") >= 1 and "m2<" not in response.content.decode()
    response = client.get(url, {"export": "xlsx", "overdue": "on"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    from io import BytesIO

    from openpyxl import load_workbook

    ws = load_workbook(BytesIO(response.content)).active
    assert ws.cell(1, 1).value == "编号" and ws.max_row == 17


def test_todo_figures_and_admin_pages_render(org, calendar_2026, policy, login):
    m = routed(org, policy, at(16, 10))
    client = login(org.users["eng_liaison"])
    response = client.get(reverse("matters:todo"))
    assert response.status_code == 200 and m.reference in response.content.decode()
    detail = client.get(m.get_absolute_url()).content.decode()
    assert "为什么分派给我们" in detail and "受理时限" in detail and "测试规则" in detail
    admin = login(org.users["admin"])
    for name in ["todo", "ledger", "figures"]:
        assert admin.get(reverse(f"matters_admin:{name}")).status_code == 200
    assert "工程部" in admin.get(reverse("matters_admin:figures"), {"month": "2026-09"}).content.decode()
    assert admin.get(reverse("wagtailsnippets_matters_routingrule:list")).status_code == 200
    assert login(org.users["coordinator"]).get(reverse("matters:figures")).status_code == 200
    assert login(org.users["cs_staff"]).get(reverse("matters:figures")).status_code == 403


def test_digest_lists_due_and_overdue_matters(org, calendar_2026, policy):
    from matters.hooks_routing import matters_digest

    m = routed(org, policy, at(16, 10))
    section = matters_digest(org.users["eng_head"])
    assert section and m.reference in section["items"][0]["text"] and "逾期" in section["items"][0]["text"]
    assert matters_digest(org.users["cs_staff"]) is None
