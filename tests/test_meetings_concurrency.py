"""Room double-booking and minutes saved twice at once, with real concurrent transactions
(PostgreSQL)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

import pytest

from meetings import services
from meetings.demo import seed_types
from meetings.models import Meeting, MeetingRoom, MeetingType, Minutes
from portal.models import Department, User
from tests.concurrency import run_in_threads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _start():
    day = timezone.localdate() + dt.timedelta(days=20)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(14, 0)))


def test_two_requests_for_the_same_room_and_time_book_it_once(org):
    seed_types(log=lambda *a: None)
    start = _start()

    def book(i):
        try:
            services.request_meeting(
                mtype=MeetingType.objects.get(code="emergency"), subject=f"会{i}",
                organiser=User.objects.get(username="eng_head"), start=start, end=start + dt.timedelta(hours=1),
                room=MeetingRoom.objects.get(name="一号会议室"),
            )
            return "ok"
        except services.InvalidInput as exc:
            return str(exc)

    results = run_in_threads(2, book)
    assert results.count("ok") == 1
    assert any("占用" in r for r in results if r != "ok")
    assert Meeting.objects.count() == 1


def test_minutes_saved_twice_at_once_keeps_one_and_refuses_the_other(org):
    seed_types(log=lambda *a: None)
    start = _start()
    meeting = services.request_meeting(
        mtype=MeetingType.objects.get(code="emergency"), subject="纪要并发", organiser=User.objects.get(username="eng_head"),
        start=start, end=start + dt.timedelta(hours=1), place="工程部", schedule_now=True,
    )
    services.minutes_for(meeting)
    dept = Department.objects.get(code="service")

    def save(i):
        try:
            services.save_minutes(meeting, User.objects.get(username="eng_head" if i else "coordinator"), revision=0,
                                  summary=f"版本{i}", discussion="",
                                  decisions=[{"text": f"决议{i}", "department": dept, "due_date": start.date()}])
            return "ok"
        except services.WrongState:
            return "stale"

    assert sorted(run_in_threads(2, save)) == ["ok", "stale"]
    minutes = Minutes.objects.get(meeting=meeting)
    assert minutes.revision == 1
    assert meeting.decisions.count() == 1
