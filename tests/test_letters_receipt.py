"""Letters: the inbox, 签收, reminders, 复函 and the thread, and who may read a 机密 letter."""

from __future__ import annotations

import datetime

from django.test import Client
from django.utils import timezone

from wagtail.models import PageLogEntry

import pytest

from letters.models import LetterPage, LetterReceipt
from letters.services import remind_unreceived, start_reply
from letters.testing import act, draft_letter, ensure_groups, sign, submit
from portal.nav import nav_items
from portal.notifications.models import Notification


@pytest.fixture
def sent(org):
    return sign(org, draft_letter(org, cc=("quality",), contact="马超，0571-8800 1006"))


def test_receiving_head_signs_for_letter_with_time_and_person(org, sent, login):
    client = login(org.users["cs_liaison"])
    response = client.post(f"/letters/{sent.pk}/receive/", {"department": org.depts["service"].pk})
    assert response.status_code == 302
    receipt = LetterReceipt.objects.get(letter=sent, department=org.depts["service"])
    assert receipt.received_by == org.users["cs_liaison"] and receipt.received_at is not None
    assert PageLogEntry.objects.filter(page=sent, action="letters.receive").exists()
    assert Notification.objects.filter(kind="letter.acknowledged", recipient=org.users["eng_head"]).exists()
    first = receipt.received_at
    login(org.users["cs_head"]).post(f"/letters/{sent.pk}/receive/", {"department": org.depts["service"].pk})
    receipt.refresh_from_db()
    assert receipt.received_at == first and receipt.received_by == org.users["cs_liaison"]


def test_receive_needs_post_and_csrf(org, sent):
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.users["cs_head"])
    assert client.get(f"/letters/{sent.pk}/receive/").status_code == 405
    assert client.post(f"/letters/{sent.pk}/receive/").status_code == 403
    assert not LetterReceipt.objects.filter(letter=sent, received_at__isnull=False).exists()


def test_staff_member_cannot_sign_for_department(org, sent, login):
    response = login(org.users["cs_staff"]).post(f"/letters/{sent.pk}/receive/", follow=True)
    assert "只有收文部门的负责人或对接人可以签收" in response.content.decode()
    assert not LetterReceipt.objects.filter(letter=sent, received_at__isnull=False).exists()


def test_page_shows_letter_and_sign_button_to_receiving_head(org, sent, login):
    body = login(org.users["cs_head"]).get(sent.url).content.decode()
    assert sent.doc_number in body and sent.title in body
    assert "代表客服部签收" in body
    body = login(org.users["cs_staff"]).get(sent.url).content.decode()
    assert sent.title in body and "代表客服部签收" not in body


def test_nav_badge_counts_letters_to_sign_for(org, sent, rf):
    request = rf.get("/")
    request.user = org.users["cs_liaison"]
    item = next(i for i in nav_items(request) if i.url == "/letters/")
    assert item.badge == 1
    from letters.services import receive_letter

    receive_letter(sent, org.users["cs_head"])
    assert next(i for i in nav_items(request) if i.url == "/letters/").badge is None


def test_inbox_tabs(org, sent, login, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(org.users["cs_head"])
    with CaptureQueriesContext(connection) as one:
        client.get("/letters/?tab=received")
    for _ in range(3):
        sign(org, draft_letter(org))
    with django_assert_num_queries(len(one)):  # the count does not grow with the letters
        body = client.get("/letters/?tab=received").content.decode()
    body = client.get("/letters/").content.decode()
    assert "待签收" in body and sent.doc_number in body
    body = login(org.users["eng_head"]).get("/letters/?tab=sent").content.decode()
    assert sent.doc_number in body
    draft = draft_letter(org, title="关于草稿的函")
    body = login(org.users["cs_head"]).get("/letters/?tab=drafts").content.decode()
    assert draft.title not in body
    body = login(org.users["eng_head"]).get("/letters/?tab=drafts").content.decode()
    assert draft.title in body


def test_scheduled_reminder_after_one_working_day_once_a_day(org, sent, calendar_2026):
    now = sent.receipts.first().delivered_at
    assert remind_unreceived(now + datetime.timedelta(minutes=5)) == 0
    later = now + datetime.timedelta(days=4)
    while not __import__("portal.workdays", fromlist=["is_workday"]).is_workday(timezone.localdate(later)):
        later += datetime.timedelta(days=1)
    sent_count = remind_unreceived(later)
    recipients = set(Notification.objects.filter(kind="letter.remind").values_list("recipient__username", flat=True))
    assert {"cs_head", "cs_liaison", "qa_head", "qa_staff"} <= recipients
    assert sent_count >= 4
    assert remind_unreceived(later + datetime.timedelta(hours=1)) == 0
    from letters.services import receive_letter

    receive_letter(sent, org.users["cs_head"])
    receive_letter(sent, org.users["qa_head"])
    assert remind_unreceived(later + datetime.timedelta(days=1, hours=1)) == 0


def test_issuing_department_reminds_by_hand(org, sent, login):
    response = login(org.users["eng_liaison"]).post(f"/letters/{sent.pk}/remind/", follow=True)
    assert "已提醒" in response.content.decode()
    assert Notification.objects.filter(kind="letter.remind", recipient=org.users["cs_head"]).exists()
    before = Notification.objects.filter(kind="letter.remind").count()
    login(org.users["eng_liaison"]).post(f"/letters/{sent.pk}/remind/")
    assert Notification.objects.filter(kind="letter.remind").count() == before  # 5 minutes apart
    response = login(org.users["cs_staff"]).post(f"/letters/{sent.pk}/remind/", follow=True)
    assert "只有发文部门可以催签" in response.content.decode()


def test_reply_is_linked_and_thread_shows_on_both_letters(org, sent, login):
    ensure_groups()
    client = login(org.users["cs_head"])
    response = client.post(f"/letters/{sent.pk}/reply/")
    reply = LetterPage.objects.get(in_reply_to=sent)
    assert response.status_code == 302 and response["Location"] == f"/admin/pages/{reply.pk}/edit/"
    assert reply.title == "关于协助做好电梯年度检验期间业主告知工作的复函"
    assert reply.issuing_department == org.depts["service"]
    assert list(reply.to_departments.all()) == [org.depts["engineering"]]
    assert client.get(f"/admin/pages/{reply.pk}/edit/").status_code == 200
    # Pressing 复函 again opens the same draft.
    client.post(f"/letters/{sent.pk}/reply/")
    assert LetterPage.objects.filter(in_reply_to=sent).count() == 1
    reply = sign(org, reply, head="cs_head", leader="leader2")
    assert reply.doc_number.startswith("客服函")
    assert Notification.objects.filter(kind="letter.replied", recipient=org.users["eng_head"]).exists()
    for letter in (sent, reply):
        body = login(org.users["cs_staff"]).get(letter.url).content.decode()
        assert sent.doc_number in body and reply.doc_number in body and "往来函件" in body


def test_only_receiving_department_may_reply(org, sent):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        start_reply(sent, org.users["sec_head"])


def test_drafts_and_letters_in_review_are_not_on_the_front_end(org, login):
    letter = draft_letter(org)
    assert login(org.users["cs_head"]).get(letter.url).status_code == 404
    submit(letter, letter.owner)
    act(letter, org.users["eng_head"], "approve")
    assert login(org.users["cs_head"]).get(f"/letters/{letter.pk}/pdf/").status_code == 404
    assert not LetterPage.objects.visible_to(org.users["cs_head"]).filter(pk=letter.pk).exists()


# --- 机密 ---------------------------------------------------------------------------------------------


@pytest.fixture
def secret(org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        letter = sign(
            org,
            draft_letter(
                org,
                to=("finance",),
                classification="confidential",
                named=[org.users["coordinator"]],
                attachments=[("报价单", "quote.txt", "报价".encode())],
            ),
        )
    return letter


@pytest.mark.parametrize("username", ["fin_staff", "fin_head", "eng_staff", "coordinator", "leader", "admin"])
def test_confidential_letter_visible_to_its_audience(org, secret, login, username):
    client = login(org.users[username])
    assert client.get(secret.url).status_code == 200
    assert client.get(f"/letters/{secret.pk}/pdf/").status_code == 200
    assert LetterPage.objects.visible_to(org.users[username]).filter(pk=secret.pk).exists()


@pytest.mark.parametrize("username", ["cs_staff", "cs_head", "leader2", "site_staff", "nodept", "gm"])
def test_confidential_letter_is_404_for_everyone_else(org, secret, login, username):
    client = login(org.users[username])
    attachment = secret.attachments.first()
    assert client.get(secret.url).status_code == 404
    assert client.get(f"/letters/{secret.pk}/pdf/").status_code == 404
    assert client.get(f"/letters/{secret.pk}/pdf/?download=1").status_code == 404
    assert client.get(f"/letters/{secret.pk}/attachments/{attachment.pk}/").status_code == 404
    assert client.post(f"/letters/{secret.pk}/receive/").status_code == 404
    assert client.post(f"/letters/{secret.pk}/reply/").status_code == 404
    assert not LetterPage.objects.visible_to(org.users[username]).filter(pk=secret.pk).exists()
    body = client.get("/letters/?tab=all").content.decode()
    assert secret.title not in body


def test_confidential_letter_hidden_in_admin_explorer(org, secret, login):
    ensure_groups()
    index = secret.get_parent()
    body = login(org.users["sec_head"]).get(f"/admin/pages/{index.pk}/").content.decode()
    assert secret.title not in body


def test_anonymous_visitor_is_sent_to_login(secret):
    response = Client().get(f"/letters/{secret.pk}/pdf/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_search_fields_and_visible_to_for_search(org, secret, sent):
    from wagtail.search.backends import get_search_backend

    backend = get_search_backend()
    backend.add(secret)
    backend.add(sent)
    results = list(backend.search("消防", LetterPage.objects.visible_to(org.users["cs_staff"])))
    assert secret not in results


def test_notification_kinds_are_declared():
    from wagtail import hooks

    kinds = [k for fn in hooks.get_hooks("portal_notification_kinds") for k in fn()]
    codes = {code for code, _label, _mandatory in kinds}
    assert {"letter.received", "letter.remind", "letter.archive_failed", "letter.rejected"} <= codes
    assert all(len(k) == 3 for k in kinds)


def test_overdue_reply_is_reminded_once_a_day_until_answered(org):
    from letters.services import remind_overdue_replies

    letter = sign(org, draft_letter(org, reply_by=timezone.localdate() + datetime.timedelta(days=1)))
    later = timezone.now() + datetime.timedelta(days=3)
    assert remind_overdue_replies(timezone.now()) == 0
    assert remind_overdue_replies(later) == 2  # 客服部's head and liaison
    assert remind_overdue_replies(later + datetime.timedelta(minutes=5)) == 0
    reply = start_reply(letter, org.users["cs_head"])
    sign(org, reply, head="cs_head", leader="leader2")
    assert remind_overdue_replies(later + datetime.timedelta(days=1)) == 0
