"""notify(): channels per person and kind, dedupe, email through the test outbox, inbox, digest."""

import datetime as dt

from django.core import mail
from django.urls import reverse

from wagtail import hooks

import pytest

from portal.notifications.digest import send_daily_digest
from portal.notifications.kinds import get_kind, registered_kinds
from portal.notifications.models import Channel, Notification, NotificationPreference, Status
from portal.notifications.services import deliver, mark_read, notify, retry_due, set_preferences

pytestmark = pytest.mark.django_db


@pytest.fixture
def escalation_kind():
    with hooks.register_temporarily("portal_notification_kinds", lambda: [("test.escalation", "超期升级", True)]):
        yield "test.escalation"


def _notify(users, django_capture_on_commit_callbacks, **kw):
    kw.setdefault("kind", "digest.daily")
    kw.setdefault("event_key", "evt:1")
    kw.setdefault("title", "有一件事项即将超期")
    with django_capture_on_commit_callbacks(execute=True):
        return notify(users, **kw)


def test_one_row_per_person_and_channel_and_repeat_adds_nothing(org, django_capture_on_commit_callbacks):
    people = [org.users["cs_staff"], org.users["eng_head"]]
    assert _notify(people, django_capture_on_commit_callbacks, body="请尽快处理", url="/matters/1/") == 2
    assert _notify(people, django_capture_on_commit_callbacks) == 0
    rows = Notification.objects.filter(event_key="evt:1")
    assert rows.filter(channel=Channel.INBOX).count() == 2
    assert rows.filter(channel=Channel.EMAIL, status=Status.SENT).count() == 2
    assert len(mail.outbox) == 2


def test_email_is_chinese_html_and_plain_text_with_absolute_link(org, django_capture_on_commit_callbacks, settings):
    settings.WAGTAILADMIN_BASE_URL = "https://portal.example.com"
    _notify([org.users["cs_staff"]], django_capture_on_commit_callbacks, body="第一行\n第二行", url="/matters/7/")
    message = mail.outbox[0]
    assert message.to == ["cs_staff@example.com"]
    assert "有一件事项即将超期" in message.subject
    assert "刘洋，您好" in message.body and "https://portal.example.com/matters/7/" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert 'href="https://portal.example.com/matters/7/"' in html and "第一行<br>第二行" in html


def test_person_without_email_gets_inbox_only_without_error(org, django_capture_on_commit_callbacks):
    user = org.users["nodept"]
    user.email = ""
    user.save()
    assert _notify([user], django_capture_on_commit_callbacks) == 1
    assert list(Notification.objects.filter(recipient=user).values_list("channel", flat=True)) == [Channel.INBOX]
    assert mail.outbox == []


def test_preferences_turn_channels_off_but_not_for_mandatory_kinds(
    org, escalation_kind, django_capture_on_commit_callbacks
):
    user = org.users["cs_staff"]
    set_preferences(user, {"digest.daily": (True, False), escalation_kind: (False, False)})
    assert not NotificationPreference.objects.filter(kind=escalation_kind).exists()
    _notify([user], django_capture_on_commit_callbacks, kind="digest.daily", event_key="a")
    _notify([user], django_capture_on_commit_callbacks, kind=escalation_kind, event_key="b")
    channels = set(Notification.objects.filter(recipient=user).values_list("event_key", "channel"))
    assert channels == {("a", "inbox"), ("b", "inbox"), ("b", "email")}
    # Back to the default: no row kept.
    set_preferences(user, {"digest.daily": (True, True)})
    assert not NotificationPreference.objects.filter(user=user).exists()


def test_unknown_kind_is_optional_with_code_as_label(escalation_kind):
    assert get_kind("nobody.registered").label == "nobody.registered"
    assert not get_kind("nobody.registered").mandatory
    assert get_kind(escalation_kind).mandatory
    assert "digest.daily" in registered_kinds()


def test_channels_argument_limits_a_call(org, django_capture_on_commit_callbacks):
    _notify([org.users["cs_staff"]], django_capture_on_commit_callbacks, channels=["inbox"])
    assert Notification.objects.filter(channel=Channel.EMAIL).count() == 0
    assert mail.outbox == []


def test_inactive_people_are_skipped(org):
    user = org.users["cs_staff"]
    user.is_active = False
    user.save()
    assert notify([user, None], kind="x", event_key="e", title="t") == 0


def test_email_failure_is_retried_then_marked_failed_with_error(
    org, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.PORTAL_NOTIFY_RETRY_DELAYS = [0, 0]
    notify([org.users["cs_staff"]], kind="x", event_key="e", title="t")  # not delivered yet: no commit

    def broken(self, fail_silently=False):
        raise ConnectionRefusedError("SMTP 服务器拒绝连接")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", broken)
    row = Notification.objects.get(channel=Channel.EMAIL)
    assert deliver(row.pk) == "retrying"
    assert deliver(row.pk) == "skipped"  # waiting for its backoff: only the sweep queues it again
    with django_capture_on_commit_callbacks(execute=True):
        assert retry_due() == 1  # delivered synchronously in tests: retrying again
    with django_capture_on_commit_callbacks(execute=True):
        assert retry_due() == 1  # third attempt: final
    assert retry_due() == 0
    row.refresh_from_db()
    assert row.status == Status.FAILED and row.attempts == 3
    assert "SMTP 服务器拒绝连接" in row.last_error
    assert deliver(row.pk) == "skipped"
    # The inbox copy was never held up by the failing email.
    assert Notification.objects.get(channel=Channel.INBOX).status == Status.SENT


def test_delivered_row_is_not_sent_again(org, django_capture_on_commit_callbacks):
    _notify([org.users["cs_staff"]], django_capture_on_commit_callbacks)
    row = Notification.objects.get(channel=Channel.EMAIL)
    assert deliver(row.pk) == "skipped"
    assert len(mail.outbox) == 1


def test_inbox_lists_marks_read_and_badge(org, login):
    user = org.users["cs_staff"]
    notify([user], kind="x", event_key="e1", title="第一条", url="/inbox/?x=1", channels=["inbox"])
    notify([user], kind="x", event_key="e2", title="第二条", url="https://evil.example.com/", channels=["inbox"])
    client = login(user)
    page = client.get(reverse("notifications:inbox"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "第一条" in html and "第二条" in html and 'class="badge"' in html
    second = Notification.objects.get(event_key="e2")
    response = client.get(reverse("notifications:open", args=[second.pk]))
    assert response["Location"] == reverse("notifications:inbox")  # no open redirect
    second.refresh_from_db()
    assert second.read_at is not None
    client.post(reverse("notifications:mark_all_read"))
    assert Notification.objects.for_user(user).unread().count() == 0


def test_someone_elses_notification_is_404(org, login):
    notify([org.users["eng_head"]], kind="x", event_key="e", title="t", channels=["inbox"])
    note = Notification.objects.get()
    assert login(org.users["cs_staff"]).get(reverse("notifications:open", args=[note.pk])).status_code == 404


def test_mark_read_only_touches_own(org):
    notify([org.users["eng_head"], org.users["cs_staff"]], kind="x", event_key="e", title="t", channels=["inbox"])
    assert mark_read(org.users["cs_staff"]) == 1
    assert Notification.objects.unread().count() == 1


def test_preferences_page_saves_and_locks_mandatory(org, login, escalation_kind):
    user = org.users["cs_staff"]
    client = login(user)
    page = client.get(reverse("notifications:preferences"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "每日待办摘要" in html and "超期升级" in html and "必收" in html
    client.post(reverse("notifications:preferences"), {"digest.daily:inbox": "on"})
    pref = NotificationPreference.objects.get(user=user, kind="digest.daily")
    assert (pref.inbox, pref.email) == (True, False)
    assert not NotificationPreference.objects.filter(kind=escalation_kind).exists()


def test_preferences_page_warns_without_email(org, login):
    user = org.users["nodept"]
    user.email = ""
    user.save()
    assert "没有登记邮箱" in login(user).get(reverse("notifications:preferences")).content.decode()


@pytest.fixture
def digest_section():
    def section(user):
        if user.username == "cs_staff":
            return {"title": "今日到期", "items": [{"text": "事项 XT-2026-0001 今日到期", "url": "/matters/1/"}]}
        if user.username == "eng_head":
            raise RuntimeError("broken section")
        return None

    with hooks.register_temporarily("portal_digest_sections", section):
        yield


def test_digest_on_a_working_day_once_per_person_and_skips_empty(
    org, calendar_2026, digest_section, django_capture_on_commit_callbacks
):
    monday = dt.date(2026, 11, 23)
    with django_capture_on_commit_callbacks(execute=True):
        first = send_daily_digest(monday)
    with django_capture_on_commit_callbacks(execute=True):
        again = send_daily_digest(monday)
    assert first["sent"] == 1 and again["sent"] == 0
    rows = Notification.objects.filter(kind="digest.daily", channel=Channel.INBOX)
    assert [r.recipient.username for r in rows] == ["cs_staff"]
    assert rows[0].event_key == "digest:daily:2026-11-23"
    assert "事项 XT-2026-0001 今日到期" in rows[0].body
    assert len(mail.outbox) == 1
    assert "今日到期" in mail.outbox[0].alternatives[0][0]


def test_digest_skips_weekends_and_holidays_but_runs_on_makeup_days(org, calendar_2026, digest_section):
    assert send_daily_digest(dt.date(2026, 11, 21))["skipped"]  # Saturday
    assert send_daily_digest(dt.date(2026, 10, 1))["skipped"]  # National Day
    assert send_daily_digest(dt.date(2026, 10, 10))["sent"] == 1  # make-up Saturday


def test_unread_inbox_section_reminds_of_waiting_messages(org, calendar_2026):
    user = org.users["site_staff"]
    notify([user], kind="x", event_key="e", title="请确认通告", channels=["inbox"])
    send_daily_digest(dt.date(2026, 11, 23))
    digest = Notification.objects.get(recipient=user, kind="digest.daily", channel=Channel.INBOX)
    assert "请确认通告" in digest.body
