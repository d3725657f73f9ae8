"""Meetings: requests within lead times, approval, rooms, answers, sign-in, minutes with
sign-off, decisions becoming tracked matters, escalation, reports, iCalendar and the hook."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from wagtail import hooks
from wagtail.models import ModelLogEntry

import pytest
from icalendar import Calendar

from matters.models import Matter, MatterStatus
from meetings import ics, reports, services
from meetings.demo import seed_types
from meetings.models import (
    Decision,
    DecisionState,
    Meeting,
    MeetingRoom,
    MeetingStatus,
    MeetingType,
    Minutes,
    MinutesStatus,
    Response,
    SignInRefusal,
)
from portal.notifications.models import Notification
from portal.workdays import WorkCalendar

TZ = timezone.get_fixed_timezone(480)


@pytest.fixture
def setup(org, calendar_2026, django_capture_on_commit_callbacks):
    seed_types(log=lambda *a: None)
    return org


def at(y, m, d, h=9, minute=0):
    return dt.datetime(y, m, d, h, minute, tzinfo=TZ)


# A Wednesday in an ordinary working week of 2026 (no holiday around).
NOW = at(2026, 11, 4, 10)


def topic_request(org, *, start=None, end=None, room="一号会议室", reason="", **kw):
    start = start or at(2026, 11, 12, 14)
    return services.request_meeting(
        mtype=MeetingType.objects.get(code="topic"), subject="漏水责任划分", organiser=org.users["eng_head"],
        start=start, end=end or start + dt.timedelta(hours=1), room=MeetingRoom.objects.get(name=room) if room else None,
        departments=[org.depts["engineering"], org.depts["service"]], lead_time_reason=reason, now=NOW, **kw,
    )


def scheduled(org, **kw):
    m = topic_request(org, **kw)
    return services.approve_meeting(m, org.users["leader"], now=NOW)


# -- requests and lead times ------------------------------------------------------------------


def test_request_goes_to_the_organisers_supervising_leader_and_invites_department_heads(setup):
    org = setup
    m = topic_request(org)
    assert m.status == MeetingStatus.REQUESTED
    assert m.approver_user == org.users["leader"]  # 工程部's 分管领导
    assert not m.inside_lead_time
    invited = set(m.participants.values_list("user__username", flat=True))
    assert {"eng_head", "cs_head"} <= invited
    assert ModelLogEntry.objects.filter(action="meetings.request", object_id=str(m.pk)).exists()


def test_request_inside_three_working_days_needs_a_reason_and_is_flagged(setup):
    org = setup
    soon = at(2026, 11, 6, 14)  # Friday: only 2 working days after Wednesday
    with pytest.raises(services.InvalidInput, match="不足 3 个工作日"):
        topic_request(org, start=soon)
    m = topic_request(org, start=soon, reason="业主投诉升级，需尽快协调")
    assert m.inside_lead_time and "投诉" in m.lead_time_reason


def test_lead_time_counts_working_days_over_the_weekend(setup):
    topic = MeetingType.objects.get(code="topic")
    # A Tuesday meeting: three working days before is the previous Thursday.
    latest = services.latest_request_time(topic, at(2026, 11, 10, 14))
    assert latest.date() == dt.date(2026, 11, 5)


def test_emergency_meetings_are_exempt_from_the_lead_time(setup):
    org = setup
    m = services.request_meeting(
        mtype=MeetingType.objects.get(code="emergency"), subject="暴雨内涝", organiser=org.users["eng_head"],
        start=NOW + dt.timedelta(hours=2), end=NOW + dt.timedelta(hours=3), place="工程部", now=NOW,
    )
    assert not m.inside_lead_time


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (at(2026, 11, 3, 9), at(2026, 11, 3, 10), "不能早于现在"),
        (at(2026, 11, 12, 10), at(2026, 11, 12, 9), "结束时间必须晚于开始时间"),
    ],
)
def test_meeting_in_the_past_or_ending_before_it_starts_is_refused(setup, start, end, message):
    with pytest.raises(services.InvalidInput, match=message):
        topic_request(setup, start=start, end=end, reason="x")
    assert not Meeting.objects.exists()


def test_double_booked_room_is_refused_with_the_other_meeting_named(setup):
    org = setup
    topic_request(org)
    with pytest.raises(services.InvalidInput, match="已被“漏水责任划分”占用"):
        topic_request(org, start=at(2026, 11, 12, 14, 30))
    # Another room at the same time is fine; so is the same room right after.
    topic_request(org, start=at(2026, 11, 12, 14, 30), room="二号会议室")
    topic_request(org, start=at(2026, 11, 12, 15))


def test_staff_without_a_department_head_role_cannot_request(setup):
    with pytest.raises(services.NotAllowed):
        services.request_meeting(
            mtype=MeetingType.objects.get(code="topic"), subject="x", organiser=setup.users["cs_staff"],
            start=at(2026, 11, 12, 14), end=at(2026, 11, 12, 15), place="客服部", now=NOW,
        )


# -- approval and notices ---------------------------------------------------------------------


def test_approval_schedules_and_notifies_every_participant(setup, django_capture_on_commit_callbacks):
    org = setup
    with django_capture_on_commit_callbacks(execute=True):
        m = scheduled(org)
    assert m.status == MeetingStatus.SCHEDULED
    assert m.minutes_due_at == m.end + dt.timedelta(hours=24)
    notified = set(Notification.objects.filter(kind=services.KIND_NOTICE).values_list("recipient__username", flat=True))
    assert {"eng_head", "cs_head"} <= notified


def test_only_the_approver_decides_and_refusal_needs_a_reason(setup):
    org = setup
    m = topic_request(org)
    with pytest.raises(services.NotAllowed):
        services.approve_meeting(m, org.users["cs_head"], now=NOW)
    with pytest.raises(services.InvalidInput, match="理由"):
        services.refuse_meeting(m, org.users["leader"], reason="  ")
    services.refuse_meeting(m, org.users["leader"], reason="并入周例会讨论")
    m.refresh_from_db()
    assert m.status == MeetingStatus.REFUSED and m.decision_note == "并入周例会讨论"
    with pytest.raises(services.WrongState):
        services.approve_meeting(m, org.users["leader"], now=NOW)


def test_moving_keeps_the_uid_and_raises_the_sequence_and_cancel_is_method_cancel(setup):
    org = setup
    m = scheduled(org)
    uid = m.uid
    moved = services.move_meeting(m, org.users["eng_head"], start=at(2026, 11, 13, 9), end=at(2026, 11, 13, 10),
                                  room=m.room, reason="主持人出差", now=NOW)
    assert moved.uid == uid and moved.sequence == 1
    cal = Calendar.from_ical(ics.invitation(moved))
    event = cal.walk("VEVENT")[0]
    assert cal["METHOD"] == "REQUEST"
    assert str(event["UID"]) == f"{uid}@xietong-portal" and int(event["SEQUENCE"]) == 1
    attendees = event.get("ATTENDEE")
    assert attendees and all(a.params["RSVP"] == "TRUE" for a in attendees)
    cancelled = services.cancel_meeting(moved, org.users["eng_head"], reason="问题已解决")
    cal = Calendar.from_ical(ics.invitation(cancelled))
    event = cal.walk("VEVENT")[0]
    assert cal["METHOD"] == "CANCEL" and event["STATUS"] == "CANCELLED" and int(event["SEQUENCE"]) == 2
    assert str(event["UID"]) == f"{uid}@xietong-portal"


# -- answers and sign-in ----------------------------------------------------------------------


def test_answers_leave_needs_a_reason_and_delegate_needs_a_colleague(setup):
    org = setup
    m = scheduled(org)
    cs = org.users["cs_head"]
    with pytest.raises(services.InvalidInput, match="事由"):
        services.respond(m, cs, response=Response.LEAVE)
    with pytest.raises(services.InvalidInput, match="同事"):
        services.respond(m, cs, response=Response.DELEGATE)
    with pytest.raises(services.InvalidInput):
        services.respond(m, cs, response="maybe")
    row = services.respond(m, cs, response=Response.DELEGATE, delegate=org.users["cs_liaison"])
    assert row.delegate == org.users["cs_liaison"]
    with pytest.raises(services.NotAllowed):
        services.respond(m, org.users["fin_head"], response=Response.ATTEND)


def test_qr_sign_in_records_late_arrivals_and_refuses_strangers_and_late_codes(setup):
    org = setup
    m = scheduled(org)
    p = services.sign_in(m, org.users["eng_head"], token=m.checkin_token, now=m.start + dt.timedelta(minutes=7))
    assert p.is_late and p.sign_in_method == "qr"
    again = services.sign_in(m, org.users["eng_head"], token=m.checkin_token, now=m.start + dt.timedelta(minutes=9))
    assert again.signed_in_at == p.signed_in_at  # first sign-in kept
    with pytest.raises(services.SignInRefused, match="不在本次会议"):
        services.sign_in(m, org.users["fin_head"], token=m.checkin_token, now=m.start)
    with pytest.raises(services.SignInRefused, match="已结束"):
        services.sign_in(m, org.users["cs_head"], token=m.checkin_token, now=m.end + dt.timedelta(minutes=1))
    with pytest.raises(services.SignInRefused, match="无效"):
        services.sign_in(m, org.users["cs_head"], token="guessed", now=m.start)
    assert SignInRefusal.objects.filter(meeting=m).count() == 3


def test_delegate_signs_in_in_place_of_the_invitee(setup):
    org = setup
    m = scheduled(org)
    services.respond(m, org.users["cs_head"], response=Response.DELEGATE, delegate=org.users["cs_liaison"])
    row = services.sign_in(m, org.users["cs_liaison"], token=m.checkin_token, now=m.start)
    assert row.user == org.users["cs_liaison"] and row.signed_in_at is not None


# -- minutes and decisions --------------------------------------------------------------------


def _minutes_with_decisions(org, m, n=3, actor="eng_head"):
    rows = [
        {"text": f"决议{i}", "department": org.depts["engineering"] if i % 2 else org.depts["service"],
         "person": org.users["eng_head"] if i % 2 else None, "due_date": m.start.date() + dt.timedelta(days=5 + i)}
        for i in range(1, n + 1)
    ]
    return services.save_minutes(m, org.users[actor], revision=0, summary="概要", discussion="讨论",
                                 decisions=rows, now=m.end + dt.timedelta(hours=1))


def test_decision_without_owner_or_due_date_is_refused(setup):
    org = setup
    m = scheduled(org)
    with pytest.raises(services.InvalidInput, match="责任部门"):
        services.save_minutes(m, org.users["eng_head"], revision=0, summary="", discussion="",
                              decisions=[{"text": "x", "department": None, "due_date": dt.date(2026, 12, 1)}])
    with pytest.raises(services.InvalidInput, match="完成期限"):
        services.save_minutes(m, org.users["eng_head"], revision=0, summary="", discussion="",
                              decisions=[{"text": "x", "department": org.depts["service"], "due_date": None}])
    with pytest.raises(services.InvalidInput, match="不属于"):
        services.save_minutes(m, org.users["eng_head"], revision=0, summary="", discussion="",
                              decisions=[{"text": "x", "department": org.depts["service"],
                                          "person": org.users["eng_staff"], "due_date": dt.date(2026, 12, 1)}])
    assert not Decision.objects.exists()


def test_minutes_saved_twice_from_the_same_page_refuses_the_second(setup):
    org = setup
    m = scheduled(org)
    _minutes_with_decisions(org, m)
    with pytest.raises(services.WrongState, match="已被他人更新"):
        services.save_minutes(m, org.users["coordinator"], revision=0, summary="覆盖", discussion="", decisions=[])
    assert Minutes.objects.get(meeting=m).summary == "概要"
    assert Decision.objects.filter(meeting=m).count() == 3


def test_publication_needs_every_departments_sign_off_then_decisions_become_routed_matters(
    setup, django_capture_on_commit_callbacks
):
    org = setup
    m = scheduled(org)
    # 专题协调会 has no default chair: the leader chairs this one.
    Meeting.objects.filter(pk=m.pk).update(chair=org.users["leader"])
    m.refresh_from_db()
    minutes = _minutes_with_decisions(org, m)
    with pytest.raises(services.WrongState, match="先提交"):
        services.publish_minutes(minutes, org.users["leader"])
    minutes = services.submit_minutes(minutes, org.users["eng_head"])
    with pytest.raises(services.WrongState, match="客服部"):
        services.publish_minutes(minutes, org.users["leader"])
    with pytest.raises(services.NotAllowed):
        services.sign_off_minutes(minutes, org.users["eng_staff"], department=org.depts["service"])
    services.sign_off_minutes(minutes, org.users["cs_head"], department=org.depts["service"])
    with pytest.raises(services.NotAllowed, match="主持人"):
        services.publish_minutes(minutes, org.users["cs_head"])
    with django_capture_on_commit_callbacks(execute=True):
        services.publish_minutes(minutes, org.users["leader"])
    decisions = list(Decision.objects.filter(meeting=m).select_related("matter"))
    assert len(decisions) == 3 and all(d.matter is not None for d in decisions)
    for d in decisions:
        assert d.matter.status == MatterStatus.ROUTED
        assert d.matter.lead_department_id == d.responsible_department_id
        assert d.matter.meeting_decision == d
    # The owners see them in 部门待办.
    from matters.work_views import todo_queryset

    assert todo_queryset(org.users["cs_head"]).filter(meeting_decision__meeting=m).count() == 1
    assert Notification.objects.filter(kind=services.KIND_MINUTES, recipient=org.users["cs_head"]).exists()


def test_read_receipts_and_a_correction_asks_for_confirmation_again(setup):
    org = setup
    m = scheduled(org)
    Meeting.objects.filter(pk=m.pk).update(chair=org.users["leader"])
    m.refresh_from_db()
    minutes = _minutes_with_decisions(org, m, n=1)
    services.submit_minutes(minutes, org.users["eng_head"])
    minutes = Minutes.objects.get(pk=minutes.pk)
    services.sign_off_minutes(minutes, org.users["cs_head"], department=org.depts["service"])
    minutes = services.publish_minutes(minutes, org.users["leader"])
    services.confirm_read(minutes, org.users["cs_head"])
    services.confirm_read(minutes, org.users["cs_head"])
    assert minutes.receipts.filter(version=1).count() == 1
    with pytest.raises(services.NotAllowed):
        services.confirm_read(minutes, org.users["fin_head"])
    minutes = services.correct_minutes(minutes, org.users["eng_head"], note="更正期限", summary="新概要", discussion="")
    assert minutes.version == 2 and not minutes.receipts.filter(version=2).exists()
    services.confirm_read(minutes, org.users["cs_head"])
    assert minutes.receipts.filter(version=2).count() == 1


def test_decision_closes_only_with_its_result_and_an_overdue_one_with_a_reason(setup):
    org = setup
    m = scheduled(org)
    _minutes_with_decisions(org, m, n=1)
    d = Decision.objects.get(meeting=m)
    with pytest.raises(services.InvalidInput, match="完成情况"):
        services.close_decision(d, org.users["eng_head"], result="")
    with pytest.raises(services.NotAllowed):
        services.close_decision(d, org.users["cs_staff"], result="做完了")
    Decision.objects.filter(pk=d.pk).update(due_date=dt.date(2020, 1, 1))
    with pytest.raises(services.InvalidInput, match="逾期原因"):
        services.close_decision(d, org.users["eng_head"], result="已完成")
    d = services.close_decision(d, org.users["eng_head"], result="已完成", overdue_reason="等待配件")
    assert d.state == DecisionState.DONE and d.result == "已完成"


def test_overdue_decision_escalates_once_to_the_supervising_leader(setup, django_capture_on_commit_callbacks):
    org = setup
    m = scheduled(org)
    _minutes_with_decisions(org, m, n=1)
    d = Decision.objects.get(meeting=m)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.escalate_overdue_decisions(today=d.due_date) == 0
        assert services.escalate_overdue_decisions(today=d.due_date + dt.timedelta(days=1)) == 1
        assert services.escalate_overdue_decisions(today=d.due_date + dt.timedelta(days=2)) == 0
    got = Notification.objects.filter(kind=services.KIND_DECISION_OVERDUE, channel="inbox")
    assert got.filter(recipient=org.users["leader"]).count() == 1  # 工程部's 分管领导


def test_minutes_overdue_is_reported_to_the_chair(setup, django_capture_on_commit_callbacks):
    org = setup
    m = scheduled(org)
    Meeting.objects.filter(pk=m.pk).update(chair=org.users["leader"])
    with django_capture_on_commit_callbacks(execute=True):
        assert services.remind_minutes(now=m.minutes_due_at - dt.timedelta(hours=1)) == 1
        assert services.remind_minutes(now=m.minutes_due_at + dt.timedelta(hours=1)) == 1
        assert services.remind_minutes(now=m.minutes_due_at + dt.timedelta(hours=2)) == 0
    assert Notification.objects.filter(kind=services.KIND_MINUTES_OVERDUE, recipient=org.users["leader"]).exists()


# -- standing meetings, carry-forward, hook ---------------------------------------------------


def test_standing_meeting_skips_a_holiday_monday_to_the_next_working_day(setup):
    weekly = MeetingType.objects.get(code="weekly")
    # 2026-10-05 (Monday) is in the National Day holiday; the meeting moves to the next working day.
    cal = WorkCalendar()
    assert not cal.is_workday(dt.date(2026, 10, 5))
    start = services.next_occurrence(weekly, at(2026, 10, 1, 10))
    assert start.date() == cal.next_workday(dt.date(2026, 10, 5)) == dt.date(2026, 10, 8) and start.hour == 9
    assert services.next_occurrence(weekly, at(2026, 11, 4, 10)).date() == dt.date(2026, 11, 9)


def test_open_decisions_carry_forward_to_the_next_meeting_of_the_series(setup):
    org = setup
    weekly = MeetingType.objects.get(code="weekly")
    first = services.request_meeting(mtype=weekly, subject="周例会1", organiser=org.users["coordinator"],
                                     start=at(2026, 11, 9), end=at(2026, 11, 9, 10), place="一号", schedule_now=True,
                                     now=NOW)
    _minutes_with_decisions(org, first, n=2, actor="coordinator")
    assert services.ensure_standing_meetings(now=at(2026, 11, 9, 11), weeks=1) == 1
    nxt = Meeting.objects.get(type=weekly, start__date=dt.date(2026, 11, 16))
    carried = nxt.agenda.filter(carried_decision__isnull=False)
    assert carried.count() == 2
    assert services.carry_forward_decisions(nxt) == 0  # idempotent
    assert services.ensure_standing_meetings(now=at(2026, 11, 9, 11), weeks=1) == 0


def test_portal_schedule_meeting_hook_convenes_a_scheduled_meeting(setup):
    org = setup
    results = [fn(type_code="emergency", subject="复盘会", reason="暴雨复盘", organiser=org.users["coordinator"],
                  departments=[org.depts["engineering"]], due_by=timezone.now() + dt.timedelta(days=5))
               for fn in hooks.get_hooks("portal_schedule_meeting")]
    meeting = next(r for r in results if r is not None)
    assert meeting.status == MeetingStatus.SCHEDULED and meeting.type.code == "emergency"
    assert meeting.participants.filter(user=org.users["eng_head"]).exists()
    assert [fn(type_code="nope", subject="x", reason="", organiser=org.users["coordinator"], departments=[])
            for fn in hooks.get_hooks("portal_schedule_meeting")] == [None]


# -- reports ----------------------------------------------------------------------------------


def test_ledger_states_and_weekly_report_by_department(setup):
    org = setup
    m = scheduled(org)
    today = dt.date(2026, 11, 18)  # Wednesday
    for text, dept, due, state in [
        ("逾期", "engineering", dt.date(2026, 11, 16), DecisionState.OPEN),
        ("本周", "engineering", dt.date(2026, 11, 20), DecisionState.OPEN),
        ("以后", "service", dt.date(2026, 12, 20), DecisionState.OPEN),
        ("完成", "service", dt.date(2026, 11, 19), DecisionState.DONE),
    ]:
        Decision.objects.create(meeting=m, text=text, responsible_department=org.depts[dept], due_date=due, state=state,
                                closed_at=at(2026, 11, 17) if state == DecisionState.DONE else None)
    qs = Decision.objects.all()
    assert [d.text for d in reports.filter_ledger(qs, state="overdue", today=today)] == ["逾期"]
    assert [d.text for d in reports.filter_ledger(qs, state="due_week", today=today)] == ["本周"]
    assert [d.text for d in reports.filter_ledger(qs, state="on_time", today=today)] == ["以后"]
    assert [d.text for d in reports.filter_ledger(qs, state="done", today=today)] == ["完成"]
    report = {r["department"]: r for r in reports.weekly_report(qs, today)}
    assert report["工程部"]["overdue"] == 1 and report["工程部"]["due"] == 2
    assert report["客服部"]["done"] == 1 and report["客服部"]["due"] == 1
    assert [d["text"] for d in report["工程部"]["overdue_items"]] == ["逾期"]


def test_weekly_report_and_ledger_use_a_constant_number_of_queries(setup, django_assert_max_num_queries):
    org = setup
    m = scheduled(org)
    for i in range(40):
        Decision.objects.create(meeting=m, text=f"d{i}", responsible_department=list(org.depts.values())[i % 8],
                                due_date=dt.date(2026, 11, 1) + dt.timedelta(days=i))
    with django_assert_max_num_queries(2):
        reports.weekly_report(Decision.objects.all(), dt.date(2026, 11, 18))
    with django_assert_max_num_queries(1):
        rows = list(reports.filter_ledger(Decision.objects.all(), today=dt.date(2026, 11, 18)))
        reports.ledger_xlsx(rows, dt.date(2026, 11, 18))


def test_demo_is_idempotent_and_has_the_issue_shape(org, calendar_2026, django_capture_on_commit_callbacks):
    from meetings.demo import seed_meetings

    with django_capture_on_commit_callbacks(execute=True):
        seed_meetings(log=lambda *a: None)
        seed_meetings(log=lambda *a: None)
    weekly = MeetingType.objects.get(code="weekly")
    past = Meeting.objects.filter(type=weekly, source="demo")
    assert past.count() == 2
    published = Minutes.objects.get(meeting__in=past, status=MinutesStatus.PUBLISHED)
    decisions = Decision.objects.filter(meeting=published.meeting)
    assert decisions.count() == 5 and decisions.filter(matter__isnull=False).count() == 5
    assert sum(d.is_overdue for d in decisions) == 2
    assert Meeting.objects.filter(type=weekly, start__gt=timezone.now()).exists()
    assert Meeting.objects.filter(type__code="topic", status=MeetingStatus.REQUESTED).count() == 1
    assert Matter.objects.filter(meeting_decision__isnull=False).count() == 5
