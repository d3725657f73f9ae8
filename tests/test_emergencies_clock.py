"""Clock milestones with a controlled clock (no sleeps): acknowledgement, escalation exactly
once, the general-manager threshold from the report, progress every 4 hours, status, review."""

from __future__ import annotations

import datetime as dt

from wagtail import hooks

import pytest

from emergencies import services
from emergencies.models import (
    ClockPolicy,
    Emergency,
    Grade,
    PhoneMessage,
    Rectification,
    Review,
    Status,
)
from emergencies.sweep import sweep
from emergencies.testing import T0, elevator_type, report, standard_roster
from matters.models import Matter
from portal.notifications.models import Notification

MIN = dt.timedelta(minutes=1)


@pytest.fixture
def roster(org):
    standard_roster(org)
    return org


def escalations(user, kind=services.KIND_ESCALATED):
    return Notification.objects.filter(recipient=user, kind=kind, channel="inbox")


def test_nothing_happens_before_a_milestone_is_due(roster):
    report(roster)
    result = sweep(T0 + 24 * MIN)
    assert (result["events"], result["missed"]) == (0, 0)
    assert Notification.objects.filter(kind=services.KIND_ESCALATED).count() == 0


def test_missed_response_escalates_once_however_often_the_sweep_runs(roster):
    e, _ = report(roster)
    assert sweep(T0 + 31 * MIN)["missed"] == 1
    assert sweep(T0 + 31 * MIN)["missed"] == 0
    assert sweep(T0 + 32 * MIN)["missed"] == 0
    respond = e.milestones.get(kind="respond")
    assert respond.missed_at == T0 + 31 * MIN
    assert escalations(roster.users["eng_head"]).count() == 1
    assert escalations(roster.users["leader"]).count() == 1
    assert e.entries.filter(kind="missed").count() == 1


def test_acknowledgement_meets_the_response_milestone(roster):
    e, _ = report(roster)
    services.acknowledge(e, roster.users["eng_staff"], when=T0 + 8 * MIN)
    e.refresh_from_db()
    assert e.status == Status.ACKNOWLEDGED and e.acknowledged_by == roster.users["eng_staff"]
    assert e.milestones.get(kind="respond").met_at == T0 + 8 * MIN
    assert sweep(T0 + 31 * MIN)["missed"] == 0
    assert e.next_due_at == T0 + 60 * MIN


def test_second_acknowledgement_is_refused_and_keeps_the_first(roster):
    e, _ = report(roster)
    services.acknowledge(e, roster.users["eng_staff"], when=T0 + 5 * MIN)
    with pytest.raises(services.InvalidInput, match="已由"):
        services.acknowledge(e, roster.users["sec_staff"], when=T0 + 6 * MIN)
    e.refresh_from_db()
    assert e.acknowledged_by == roster.users["eng_staff"] and e.acknowledged_at == T0 + 5 * MIN


def test_someone_not_paged_cannot_acknowledge(roster):
    e, _ = report(roster)
    # eng_staff2 is in 工程部 (sees the event) but not on duty and not paged.
    with pytest.raises(services.NotAllowed):
        services.acknowledge(e, roster.users["eng_staff2"], when=T0 + 5 * MIN)


def test_acknowledge_twice_through_the_page_shows_a_chinese_message(client, roster):
    e, _ = report(roster)
    client.force_login(roster.users["eng_staff"])
    url = f"/emergencies/{e.pk}/acknowledge/"
    client.post(url)
    response = client.post(url, follow=True)
    assert "无需重复响应" in response.content.decode()


def test_missed_written_report_pages_the_head_and_the_supervising_leader(roster):
    e, _ = report(roster)
    services.acknowledge(e, roster.users["eng_staff"], when=T0 + 5 * MIN)
    sweep(T0 + 61 * MIN)
    written = e.milestones.get(kind="written")
    assert written.missed_at is not None
    for who in ("eng_head", "sec_head", "leader", "leader2"):
        titles = list(escalations(roster.users[who]).values_list("title", flat=True))
        assert any("书面报告" in t for t in titles), who


def test_written_report_in_time_meets_its_milestone(roster):
    e, _ = report(roster)
    services.acknowledge(e, roster.users["eng_staff"], when=T0 + 5 * MIN)
    services.add_update(e, roster.users["eng_staff"], kind="written", text="已到场", when=T0 + 40 * MIN)
    sweep(T0 + 61 * MIN)
    assert e.milestones.get(kind="written").met_at == T0 + 40 * MIN
    assert not escalations(roster.users["eng_head"]).exists()


def test_general_manager_paged_when_not_controlled_two_hours_after_the_report(roster):
    e, _ = report(roster)
    services.acknowledge(e, roster.users["eng_staff"], when=T0 + 5 * MIN)
    services.add_update(e, roster.users["eng_staff"], kind="written", text="w", when=T0 + 30 * MIN)
    services.add_update(e, roster.users["eng_staff"], kind="plan", text="p", when=T0 + 50 * MIN)
    sweep(T0 + 119 * MIN)
    assert not escalations(roster.users["gm"]).exists()
    sweep(T0 + 121 * MIN)
    assert escalations(roster.users["gm"]).count() == 1
    assert e.paged.filter(user=roster.users["gm"], reason="gm").exists()


def test_controlled_in_time_spares_the_general_manager(roster):
    e, _ = report(roster)
    services.acknowledge(e, roster.users["eng_staff"], when=T0 + 5 * MIN)
    services.change_status(e, roster.users["eng_staff"], Status.CONTROLLED, when=T0 + 100 * MIN)
    sweep(T0 + 6 * 60 * MIN)
    assert not escalations(roster.users["gm"]).exists()
    assert e.milestones.get(kind="gm").met_at == T0 + 100 * MIN


def test_progress_every_four_hours_until_controlled(roster):
    e, _ = report(roster)
    services.acknowledge(e, roster.users["eng_staff"], when=T0 + 5 * MIN)
    services.add_update(e, roster.users["eng_staff"], kind="progress", text="进展1", when=T0 + 200 * MIN)
    nxt = e.milestones.get(kind="progress", seq=2)
    assert nxt.due_at == T0 + 440 * MIN
    sweep(T0 + 441 * MIN)
    nxt.refresh_from_db()
    assert nxt.missed_at is not None
    assert e.milestones.get(kind="progress", seq=3).due_at == T0 + 680 * MIN
    # Each progress update goes to the supervising leader.
    updates = Notification.objects.filter(recipient=roster.users["leader"], kind=services.KIND_UPDATE)
    assert any("进展1" in t for t in updates.values_list("title", flat=True))


def test_clock_follows_grade_and_type_policy(roster):
    et = elevator_type(roster)
    ClockPolicy.objects.create(event_type=None, grade=Grade.EXTREME, respond_minutes=10, written_minutes=20,
                               plan_minutes=60, progress_minutes=120, gm_minutes=30)
    ClockPolicy.objects.create(event_type=et, grade=Grade.MAJOR, respond_minutes=15, written_minutes=30,
                               plan_minutes=60, progress_minutes=120, gm_minutes=60)
    a, _ = report(roster, grade=Grade.EXTREME)
    b, _ = report(roster, grade=Grade.MAJOR)
    assert a.milestones.get(kind="respond").due_at == T0 + 10 * MIN
    assert b.milestones.get(kind="respond").due_at == T0 + 15 * MIN


def test_status_needs_acknowledgement_first_and_a_manager(roster):
    e, _ = report(roster)
    with pytest.raises(services.InvalidInput, match="先响应"):
        services.change_status(e, roster.users["eng_staff"], Status.CONTROLLED)
    services.acknowledge(e, roster.users["eng_staff"], when=T0 + 5 * MIN)
    with pytest.raises(services.NotAllowed):
        services.change_status(e, roster.users["eng_staff2"], Status.CONTROLLED)
    with pytest.raises(services.InvalidInput):
        services.change_status(e, roster.users["eng_staff"], "reviewed")


def test_response_group_members_are_paged_and_may_update(roster):
    e, _ = report(roster)
    services.acknowledge(e, roster.users["eng_staff"], when=T0 + 5 * MIN)
    services.form_group(e, roster.users["leader"], users=[roster.users["env_liaison"]], when=T0 + 10 * MIN)
    assert e.paged.filter(user=roster.users["env_liaison"], reason="group").exists()
    assert Notification.objects.filter(recipient=roster.users["env_liaison"], kind=services.KIND_PAGE).exists()
    services.add_update(e, roster.users["env_liaison"], kind="progress", text="清理积水", when=T0 + 20 * MIN)
    assert Emergency.objects.visible_to(roster.users["env_liaison"]).filter(pk=e.pk).exists()


def test_group_member_finds_the_event_on_the_home_page(client, roster, home_page):
    e, _ = report(roster)
    services.acknowledge(e, roster.users["eng_staff"], when=T0 + 5 * MIN)
    services.form_group(e, roster.users["leader"], users=[roster.users["env_liaison"]], when=T0 + 10 * MIN)
    client.force_login(roster.users["env_liaison"])
    html = client.get("/").content.decode()
    assert "我参与处置" in html and e.get_absolute_url() in html


def _recover(roster, calendar=None):
    e, _ = report(roster)
    services.acknowledge(e, roster.users["eng_staff"], when=T0 + 5 * MIN)
    services.change_status(e, roster.users["eng_staff"], Status.CONTROLLED, when=T0 + 60 * MIN)
    services.change_status(e, roster.users["eng_staff"], Status.RECOVERED, when=T0 + 90 * MIN)
    e.refresh_from_db()
    return e


def test_recovery_opens_a_tracked_review_matter_due_in_three_working_days(roster, calendar_2026):
    e = _recover(roster)
    review = Review.objects.get(emergency=e)
    # Monday 11:30 + 3 working days = Thursday end of the working day.
    assert review.due_at.date() == dt.date(2026, 12, 10)
    assert review.matter is not None and "复盘" in review.matter.title
    assert e.next_due_at is None
    assert sweep(T0 + 10 * 60 * MIN)["missed"] == 0


def test_recovery_convenes_the_meeting_through_the_hook_when_one_answers(roster, calendar_2026):
    calls = []

    class Meeting:
        def __str__(self):
            return "复盘会 12-09 14:00"

        def get_absolute_url(self):
            return "/meetings/1/"

    def nobody(**kwargs):
        return None

    def meetings(*, type_code, subject, reason, organiser, departments, related_matters=(), due_by=None):
        calls.append((type_code, subject, due_by))
        return Meeting()

    with hooks.register_temporarily("portal_schedule_meeting", nobody), \
            hooks.register_temporarily("portal_schedule_meeting", meetings):
        e = _recover(roster)
    review = Review.objects.get(emergency=e)
    assert review.matter is None
    assert review.meeting_label == "复盘会 12-09 14:00" and review.meeting_url == "/meetings/1/"
    assert calls and calls[0][0] == "emergency_review"


def test_review_turns_each_measure_into_a_tracked_matter(roster, calendar_2026):
    e = _recover(roster)
    review = services.submit_review(
        e, roster.users["eng_head"], cause="门机老化", lessons="纳入季度巡检",
        measures_text="更换门机 | eng_head | 2026-12-20\n加装监控 | E0701 | 2026-12-31",
        when=T0 + 26 * 60 * MIN)
    e.refresh_from_db()
    assert e.status == Status.REVIEWED
    rects = list(Rectification.objects.filter(review=review).select_related("owner", "matter").order_by("pk"))
    assert [(r.owner.username, r.due_date.isoformat()) for r in rects] == [
        ("eng_head", "2026-12-20"), ("sec_head", "2026-12-31")]
    assert all(isinstance(r.matter, Matter) and "整改" in r.matter.title for r in rects)
    assert "响应" in review.summary  # the summary is generated from the timeline


@pytest.mark.parametrize("measures,message", [
    ("更换门机", "措施 | 责任人 | 期限"),
    ("更换门机 | nobody | 2026-12-20", "找不到责任人"),
    ("更换门机 | eng_head | 下周", "不是日期"),
    ("", "至少填写一项"),
])
def test_bad_review_input_is_refused_in_chinese(roster, calendar_2026, measures, message):
    e = _recover(roster)
    with pytest.raises(services.InvalidInput, match=message):
        services.submit_review(e, roster.users["eng_head"], cause="x", lessons="", measures_text=measures)
    assert Rectification.objects.count() == 0


def test_review_only_after_recovery_and_only_by_a_responsible_person(roster, calendar_2026):
    e, _ = report(roster)
    with pytest.raises(services.NotAllowed):
        services.submit_review(e, roster.users["eng_staff2"], cause="x", lessons="", measures_text="a | eng_head | 2026-12-20")
    with pytest.raises(services.InvalidInput, match="恢复后"):
        services.submit_review(e, roster.users["eng_head"], cause="x", lessons="", measures_text="a | eng_head | 2026-12-20")


def test_sweep_over_a_thousand_open_events_reads_only_the_due_one(roster):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def sweep_one_due_event(n):
        report(roster, when=T0 + n * MIN)
        PhoneMessage.objects.update(status="sent")  # the report's own SMS are not what this counts
        with CaptureQueriesContext(connection) as captured:
            result = sweep(T0 + (n + 31) * MIN)
        assert (result["events"], result["missed"]) == (1, 1)
        return len(captured.captured_queries)

    alone = sweep_one_due_event(0)
    template = Emergency.objects.first()
    Emergency.objects.bulk_create([
        Emergency(number=f"JJ-2026-{9000 + i}", idempotency_key=f"bulk-{i}", event_type=template.event_type,
                  site=template.site, location="x", reporter=template.reporter, reported_at=T0,
                  next_due_at=T0 + dt.timedelta(days=1))
        for i in range(1000)
    ])
    among_thousand = sweep_one_due_event(1)
    # The same queries for the one due event whether 1 or 1,001 events are open.
    assert among_thousand == alone
    assert Emergency.objects.open().count() == 1002
