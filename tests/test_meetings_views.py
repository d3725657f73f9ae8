"""Meeting pages: bad input keeps what was typed, guessed URLs are 404, exports and feeds keep
to their audience, QR sign-in by a stranger is recorded as refused."""

from __future__ import annotations

import datetime as dt
import io

from django.urls import reverse
from django.utils import timezone

import pytest
from icalendar import Calendar

from meetings import services
from meetings.demo import seed_types
from meetings.models import CalendarFeed, Decision, Meeting, MeetingRoom, MeetingType, SignInRefusal


@pytest.fixture
def org2(org, calendar_2026):
    seed_types(log=lambda *a: None)
    return org


def _future(days=10, hour=14):
    day = timezone.localdate() + dt.timedelta(days=days)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


@pytest.fixture
def meeting(org2):
    start = _future()
    m = services.request_meeting(
        mtype=MeetingType.objects.get(code="topic"), subject="漏水责任划分", organiser=org2.users["eng_head"],
        start=start, end=start + dt.timedelta(hours=1), room=MeetingRoom.objects.get(name="一号会议室"),
        departments=[org2.depts["engineering"], org2.depts["service"]], lead_time_reason="急",
    )
    return services.approve_meeting(m, org2.users["leader"])


def test_request_form_bad_input_keeps_what_was_typed(org2, login):
    client = login(org2.users["eng_head"])
    data = {"mtype": MeetingType.objects.get(code="topic").pk, "subject": "电梯更换协调",
            "start": "2026-01-01T10:00", "end": "2026-01-01T09:00", "place": "工程部"}
    r = client.post(reverse("meetings:request"), data)
    assert r.status_code == 400
    body = r.content.decode()
    assert "结束时间必须晚于开始时间" in body and "电梯更换协调" in body
    data["end"] = "2026-01-01T11:00"
    r = client.post(reverse("meetings:request"), data)
    assert r.status_code == 400 and "不能早于现在" in r.content.decode() and "电梯更换协调" in r.content.decode()
    data.update(start="garbage", people=["999999"])
    r = client.post(reverse("meetings:request"), data)
    assert r.status_code == 400 and "开始时间格式不对" in r.content.decode()
    assert "没有有效账号" in r.content.decode()
    assert not Meeting.objects.exists()


def test_room_taken_message_on_the_form(org2, login, meeting):
    client = login(org2.users["eng_head"])
    start = timezone.localtime(meeting.start)
    r = client.post(reverse("meetings:request"), {
        "mtype": MeetingType.objects.get(code="topic").pk, "subject": "第二个会", "lead_time_reason": "急",
        "start": start.strftime("%Y-%m-%dT%H:%M"), "end": (start + dt.timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M"),
        "room": meeting.room_id})
    assert r.status_code == 400 and "已被“漏水责任划分”占用" in r.content.decode()


def test_staff_cannot_open_the_request_form(org2, login):
    assert login(org2.users["cs_staff"]).get(reverse("meetings:request")).status_code == 404


@pytest.mark.parametrize("name", ["detail", "ics", "minutes", "qr", "minutes_print"])
def test_guessed_meeting_urls_are_404_for_outsiders(org2, login, meeting, name):
    client = login(org2.users["fin_staff"])
    assert client.get(reverse(f"meetings:{name}", args=[meeting.pk])).status_code == 404


@pytest.mark.parametrize("name", ["decide", "move", "respond", "attendance", "agenda_submit", "minutes_action"])
def test_guessed_meeting_posts_are_404_for_outsiders(org2, login, meeting, name):
    client = login(org2.users["fin_staff"])
    assert client.post(reverse(f"meetings:{name}", args=[meeting.pk]), {"action": "approve"}).status_code == 404
    meeting.refresh_from_db()
    assert meeting.status == "scheduled"


def test_participant_sees_the_meeting_and_answers(org2, login, meeting):
    client = login(org2.users["cs_head"])
    r = client.get(meeting.get_absolute_url())
    assert r.status_code == 200 and "漏水责任划分" in r.content.decode()
    r = client.post(reverse("meetings:respond", args=[meeting.pk]), {"response": "leave", "reason": ""}, follow=True)
    assert "请假请填写事由" in r.content.decode()
    client.post(reverse("meetings:respond", args=[meeting.pk]), {"response": "leave", "reason": "外出培训"})
    assert meeting.participants.get(user=org2.users["cs_head"]).response == "leave"
    # The organiser sees who answered.
    r = login(org2.users["eng_head"]).get(meeting.get_absolute_url())
    assert "外出培训" in r.content.decode()


def test_qr_sign_in_by_someone_not_invited_is_refused_and_recorded(org2, login, meeting):
    Meeting.objects.filter(pk=meeting.pk).update(start=timezone.now() - dt.timedelta(minutes=5),
                                                 end=timezone.now() + dt.timedelta(hours=1))
    url = reverse("meetings:sign_in", args=[meeting.pk, meeting.checkin_token])
    r = login(org2.users["fin_staff"]).post(url)
    assert r.status_code == 403 and "不在本次会议" in r.content.decode()
    assert SignInRefusal.objects.filter(meeting=meeting, user=org2.users["fin_staff"]).exists()
    r = login(org2.users["cs_head"]).post(url)
    assert r.status_code == 200 and "签到成功" in r.content.decode()


def test_qr_code_is_an_svg_of_the_sign_in_url(org2, login, meeting):
    r = login(org2.users["eng_head"]).get(reverse("meetings:qr", args=[meeting.pk]))
    assert r.status_code == 200 and r["Content-Type"] == "image/svg+xml" and b"<svg" in r.content


def test_invitation_download_is_a_request_with_rsvp(org2, login, meeting):
    r = login(org2.users["cs_head"]).get(reverse("meetings:ics", args=[meeting.pk]))
    cal = Calendar.from_ical(r.content)
    assert "method=REQUEST" in r["Content-Type"] and cal["METHOD"] == "REQUEST"
    assert cal.walk("VEVENT")[0]["SUMMARY"].startswith("专题协调会")


def test_calendar_feed_token_guessed_is_404_and_revoking_kills_the_old_url(org2, client, login, meeting):
    user = org2.users["cs_head"]
    c = login(user)
    c.post(reverse("meetings:feed_settings"), {"action": "renew"})
    token = CalendarFeed.objects.get(user=user).token
    c.logout()
    r = client.get(reverse("meetings:feed", args=[token]))
    assert r.status_code == 200 and b"BEGIN:VEVENT" in r.content and b"METHOD" not in r.content
    assert client.get(reverse("meetings:feed", args=["guessed-token"])).status_code == 404
    login(user).post(reverse("meetings:feed_settings"), {"action": "revoke"})
    client.logout()
    assert client.get(reverse("meetings:feed", args=[token])).status_code == 404


def test_ledger_and_its_export_keep_to_the_audience(org2, login, meeting):
    Decision.objects.create(meeting=meeting, text="工程部的决议", responsible_department=org2.depts["engineering"],
                            due_date=timezone.localdate() + dt.timedelta(days=3))
    other = Meeting.objects.create(type=meeting.type, subject="财务内部", organiser=org2.users["fin_head"],
                                   start=meeting.start, end=meeting.end, place="财务部")
    Decision.objects.create(meeting=other, text="财务部的决议", responsible_department=org2.depts["finance"],
                            due_date=timezone.localdate())
    r = login(org2.users["cs_staff"]).get(reverse("meetings:ledger"))
    body = r.content.decode()
    assert "工程部的决议" in body and "财务部的决议" not in body
    r = login(org2.users["cs_staff"]).get(reverse("meetings:ledger") + "?format=xlsx")
    from openpyxl import load_workbook

    cells = [c.value for row in load_workbook(io.BytesIO(r.content)).active.iter_rows() for c in row]
    assert "工程部的决议" in cells and "财务部的决议" not in cells
    r = login(org2.users["coordinator"]).get(reverse("meetings:ledger") + "?state=bogus&department=x&series=")
    assert r.status_code == 200 and "财务部的决议" in r.content.decode()


def test_close_decision_without_result_keeps_it_open(org2, login, meeting):
    d = Decision.objects.create(meeting=meeting, text="决议", responsible_department=org2.depts["engineering"],
                                due_date=timezone.localdate() + dt.timedelta(days=3))
    r = login(org2.users["eng_head"]).post(reverse("meetings:close_decision", args=[d.pk]), {"result": ""}, follow=True)
    assert "请填写决议的完成情况" in r.content.decode()
    d.refresh_from_db()
    assert d.state == "open"
    assert login(org2.users["fin_staff"]).post(reverse("meetings:close_decision", args=[d.pk]),
                                               {"result": "x"}).status_code == 404


def test_minutes_editor_bad_rows_and_stale_revision_keep_the_text(org2, login, meeting):
    Meeting.objects.filter(pk=meeting.pk).update(start=timezone.now() - dt.timedelta(hours=2),
                                                 end=timezone.now() - dt.timedelta(hours=1))
    client = login(org2.users["eng_head"])
    url = reverse("meetings:minutes", args=[meeting.pk])
    assert client.get(url).status_code == 200
    base = {"revision": "0", "summary": "我写的概要", "discussion": "", "d-TOTAL_FORMS": "1", "d-INITIAL_FORMS": "0",
            "d-MIN_NUM_FORMS": "0", "d-MAX_NUM_FORMS": "50"}
    r = client.post(url, {**base, "d-0-text": "没有责任部门的决议", "d-0-due_date": "2026-12-01"})
    assert r.status_code == 400 and "请选择责任部门" in r.content.decode() and "我写的概要" in r.content.decode()
    ok = {**base, "d-0-text": "决议一", "d-0-department": org2.depts["service"].pk, "d-0-due_date": "2026-12-31"}
    assert client.post(url, ok).status_code == 302
    r = client.post(url, {**ok, "summary": "另一个人的版本"})  # same stale revision 0
    assert r.status_code == 400 and "已被他人更新" in r.content.decode() and "另一个人的版本" in r.content.decode()
    assert login(org2.users["cs_head"]).get(url).status_code == 404  # participants read, secretaries write


def test_weekly_page_and_index_render(org2, login, meeting):
    for user in ("leader", "cs_staff", "coordinator"):
        c = login(org2.users[user])
        assert c.get(reverse("meetings:weekly")).status_code == 200
        assert c.get(reverse("meetings:index")).status_code == 200
        assert c.get(reverse("meetings:training")).status_code == 200
    r = login(org2.users["leader"]).get(reverse("meetings:weekly") + "?format=xlsx")
    assert r["Content-Type"].startswith("application/vnd.openxmlformats")


def test_anonymous_is_sent_to_login(client, meeting):
    r = client.get(meeting.get_absolute_url())
    assert r.status_code == 302 and "/accounts/login/" in r["Location"]


def test_weekly_pack_lists_the_departments_matters_and_decisions_and_stays_within_it(org2, login,
                                                                                     django_capture_on_commit_callbacks):
    from matters.services import open_matter
    from meetings.pack import send_weekly_packs
    from portal.notifications.models import Notification

    weekly = MeetingType.objects.get(code="weekly")
    start = _future(days=1, hour=9)
    m = services.request_meeting(mtype=weekly, subject="周例会", organiser=org2.users["coordinator"], start=start,
                                 end=start + dt.timedelta(hours=1), place="一号", schedule_now=True)
    matter = open_matter(title="水泵漏水", submitter=org2.users["site_staff"])
    from matters.models import Matter

    Matter.objects.filter(pk=matter.pk).update(lead_department=org2.depts["engineering"])
    Decision.objects.create(meeting=m, text="更换水泵", responsible_department=org2.depts["engineering"],
                            due_date=timezone.localdate())
    client = login(org2.users["eng_head"])
    r = client.get(reverse("meetings:pack", args=[m.pk]))
    body = r.content.decode()
    assert r.status_code == 200 and "水泵漏水" in body and "更换水泵" in body
    r = client.get(reverse("meetings:pack", args=[m.pk]) + "?format=xlsx")
    assert r["Content-Type"].startswith("application/vnd.openxmlformats")
    # Another department's pack by guessed id: not for a head of 工程部.
    r = client.get(reverse("meetings:pack", args=[m.pk]) + f"?department={org2.depts['finance'].pk}")
    assert r.status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        assert send_weekly_packs(now=start - dt.timedelta(hours=12)) > 0
        assert send_weekly_packs(now=start - dt.timedelta(hours=11)) == 0
    assert Notification.objects.filter(recipient=org2.users["eng_head"], event_key__contains=":pack:").exists()


def test_guessed_sign_in_code_is_404_and_shows_nothing(org2, login, meeting):
    r = login(org2.users["fin_staff"]).get(reverse("meetings:sign_in", args=[meeting.pk, "guessed"]))
    assert r.status_code == 404 and "漏水责任划分" not in r.content.decode()
    r = login(org2.users["fin_staff"]).post(reverse("meetings:sign_in", args=[meeting.pk + 1000, "x"]))
    assert r.status_code == 404


def test_draft_decisions_are_not_shown_to_participants_before_publication(org2, login, meeting):
    Decision.objects.create(meeting=meeting, text="草稿中的决议", responsible_department=org2.depts["service"],
                            due_date=timezone.localdate() + dt.timedelta(days=3))
    assert "草稿中的决议" not in login(org2.users["cs_head"]).get(meeting.get_absolute_url()).content.decode()
    assert "草稿中的决议" in login(org2.users["eng_head"]).get(meeting.get_absolute_url()).content.decode()


def test_training_ledger_shows_own_records_to_staff_and_all_to_hr(org2, login):
    training = MeetingType.objects.get(code="training")
    start = _future()
    m = services.request_meeting(mtype=training, subject="沟通技巧培训", organiser=org2.users["coordinator"],
                                 start=start, end=start + dt.timedelta(hours=2), place="培训室",
                                 people=[org2.users["cs_staff"], org2.users["eng_staff"]], schedule_now=True)
    services.sign_in(m, org2.users["cs_staff"], token=m.checkin_token, now=start)
    services.sign_in(m, org2.users["eng_staff"], token=m.checkin_token, now=start)
    own = login(org2.users["cs_staff"]).get(reverse("meetings:training")).content.decode()
    assert "刘洋" in own and "朱明" not in own
    everyone = login(org2.users["hr_head"]).get(reverse("meetings:training")).content.decode()
    assert "刘洋" in everyone and "朱明" in everyone
    r = login(org2.users["hr_head"]).get(reverse("meetings:training") + "?format=xlsx")
    assert r["Content-Type"].startswith("application/vnd.openxmlformats")


def test_meeting_page_query_count_does_not_grow_with_participants(org2, login, meeting):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from meetings.models import Participant
    from portal.models import User

    client = login(org2.users["eng_head"])
    url = meeting.get_absolute_url()
    client.get(url)  # warm caches (content types, site)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    others = User.objects.exclude(pk__in=meeting.participants.values("user_id"))[:15]
    Participant.objects.bulk_create([Participant(meeting=meeting, user=u, department_id=u.department_id) for u in others])
    services.sign_in(meeting, others[0], token=meeting.checkin_token, now=meeting.start)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries][-5:]
