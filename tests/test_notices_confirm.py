"""已阅: one receipt per person per version, bad input, re-confirmation, audit log, concurrency."""

import datetime as dt
import threading

from django.db import connection
from django.urls import reverse
from django.utils import timezone

from wagtail.models import PageLogEntry

import pytest

from notices.factories import make_notice, publish_edit
from notices.models import NoticePage, NoticeReceipt, NoticeView
from notices.services import NoticeError, confirm_notice

pytestmark = pytest.mark.django_db


@pytest.fixture
def notice(org):
    return make_notice(
        title="消防检查通知",
        requires_confirmation=True,
        confirm_deadline=timezone.now() + dt.timedelta(days=2),
        user=org.users["admin"],
    )


def post_confirm(client, notice, revision=None, json=True):
    headers = {"HTTP_ACCEPT": "application/json"} if json else {}
    data = {"revision": notice.version_revision_id if revision is None else revision}
    return client.post(reverse("notices:confirm", args=[notice.pk]), data, **headers)


def test_confirm_records_one_receipt_with_revision_and_time(org, login, notice):
    client = login(org.users["cs_staff"])
    response = post_confirm(client, notice)
    assert response.status_code == 200 and response.json()["ok"] and response.json()["created"]
    receipt = NoticeReceipt.objects.get(notice=notice, user=org.users["cs_staff"])
    assert receipt.version == 1 and receipt.revision_id == notice.live_revision_id
    assert receipt.confirmed_at is not None


def test_second_confirmation_keeps_first_timestamp(org, login, notice):
    client = login(org.users["cs_staff"])
    post_confirm(client, notice)
    first = NoticeReceipt.objects.get(notice=notice).confirmed_at
    again = post_confirm(client, notice)
    assert again.status_code == 200 and again.json()["created"] is False
    assert "确认过" in again.json()["message"]
    assert NoticeReceipt.objects.filter(notice=notice).count() == 1
    assert NoticeReceipt.objects.get(notice=notice).confirmed_at == first


def test_confirm_without_javascript_redirects_back_with_message(org, login, notice):
    client = login(org.users["cs_staff"])
    response = post_confirm(client, notice, json=False)
    assert response.status_code == 302 and response["Location"] == notice.url
    page = client.get(notice.url).content.decode()
    assert "已确认已阅" in page and "您已于" in page
    assert 'name="revision"' not in page  # the button is gone


def test_page_shows_the_button_with_the_version_revision(org, login, notice):
    page = login(org.users["cs_staff"]).get(notice.url).content.decode()
    assert f'action="{reverse("notices:confirm", args=[notice.pk])}"' in page
    assert f'name="revision" value="{notice.version_revision_id}"' in page
    assert "csrfmiddlewaretoken" in page and "截止时间" in page


def test_opening_is_recorded_separately_from_confirming(org, login, notice):
    client = login(org.users["cs_staff"])
    client.get(notice.url)
    assert NoticeView.objects.filter(notice=notice, user=org.users["cs_staff"]).exists()
    assert not NoticeReceipt.objects.filter(notice=notice).exists()


def test_get_on_confirm_url_is_405(org, login, notice):
    response = login(org.users["cs_staff"]).get(reverse("notices:confirm", args=[notice.pk]))
    assert response.status_code == 405


def test_csrf_is_required(org, notice):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(org.users["cs_staff"])
    response = post_confirm(client, notice)
    assert response.status_code == 403
    assert not NoticeReceipt.objects.exists()


@pytest.mark.parametrize(
    ("case", "status", "message"),
    [
        ("not_required", 400, "无需确认"),
        ("outside", 404, "不在其发布范围内"),
        ("unpublished", 404, "尚未发布或已撤回"),
        ("expired", 410, "已过期"),
        ("garbage_revision", 400, "版本号缺失或不符"),
        ("foreign_revision", 400, "版本号缺失或不符"),
        ("missing", 404, "不在其发布范围内"),
    ],
)
def test_bad_confirmations_explain_in_chinese_and_record_nothing(org, login, notice, case, status, message):
    user = org.users["cs_staff"]
    target, revision = notice, None
    if case == "not_required":
        target = make_notice(title="普通通知")
    elif case == "outside":
        target = make_notice(title="工程部", departments=[org.depts["engineering"]], requires_confirmation=True)
    elif case == "unpublished":
        target.unpublish()
    elif case == "expired":
        NoticePage.objects.filter(pk=notice.pk).update(expire_at=timezone.now() - dt.timedelta(minutes=1))
    elif case == "garbage_revision":
        revision = "abc"
    elif case == "foreign_revision":
        revision = make_notice(title="另一条").version_revision_id
    elif case == "missing":
        target = NoticePage(pk=999999, version_revision_id=1)
    client = login(user)
    response = post_confirm(client, target, revision=revision)
    assert response.status_code == status
    assert message in response.json()["message"]
    html_response = post_confirm(client, target, revision=revision, json=False)
    assert html_response.status_code == status and message in html_response.content.decode()
    assert not NoticeReceipt.objects.exists()


def test_material_change_asks_again_and_ordinary_edit_keeps(org, login, notice):
    admin, staff, head = org.users["admin"], org.users["cs_staff"], org.users["cs_head"]
    confirm_notice(staff, notice.pk, notice.version_revision_id)
    confirm_notice(head, notice.pk, notice.version_revision_id)
    first_revision = notice.version_revision_id

    edited = publish_edit(notice, user=admin, title="消防检查通知（错别字修正）")
    assert edited.version == 1 and edited.version_revision_id == first_revision
    assert NoticePage.objects.current().unread_by(staff).filter(pk=notice.pk).count() == 0

    changed = publish_edit(edited, user=admin, reconfirm=True, summary="检查时间提前")
    assert changed.version == 2 and changed.version_revision_id == changed.live_revision_id
    assert changed.reconfirm_requested is False
    assert changed.get_latest_revision_as_object().reconfirm_requested is False  # the next edit starts unticked
    assert NoticePage.objects.current().unread_by(staff).filter(pk=notice.pk).count() == 1

    # The old version's id is refused with an explanation; the new one is accepted.
    with pytest.raises(NoticeError, match="已更新"):
        confirm_notice(staff, notice.pk, first_revision)
    receipt, created = confirm_notice(staff, notice.pk, changed.version_revision_id)
    assert created and receipt.version == 2 and receipt.revision_id == changed.version_revision_id
    assert NoticeReceipt.objects.filter(notice=notice, user=staff).count() == 2  # history kept

    # A later ordinary edit keeps version 2 and its receipt.
    later = publish_edit(changed, user=admin, title="消防检查通知（补充联系人）")
    assert later.version == 2
    assert NoticePage.objects.current().unread_by(staff).filter(pk=notice.pk).count() == 0
    page = login(head).get(later.url).content.decode()
    assert "重新确认" in page


def test_publish_confirm_and_reconfirm_are_on_the_audit_log(org, notice):
    confirm_notice(org.users["cs_staff"], notice.pk, notice.version_revision_id)
    publish_edit(notice, user=org.users["admin"], reconfirm=True)
    actions = list(PageLogEntry.objects.filter(page=notice).values_list("action", "user__username"))
    assert ("wagtail.publish", "admin") in actions
    assert ("notices.confirm", "cs_staff") in actions
    assert any(a == "notices.reconfirm" for a, _ in actions)


def test_confirmation_after_the_deadline_is_recorded_as_late(org, notice):
    NoticePage.objects.filter(pk=notice.pk).update(confirm_deadline=timezone.now() - dt.timedelta(hours=1))
    receipt, created = confirm_notice(org.users["cs_staff"], notice.pk, notice.version_revision_id)
    assert created
    from notices.statistics import notice_statistics

    assert notice_statistics(NoticePage.objects.get(pk=notice.pk)).late == 1


@pytest.fixture
def site_tree(db):
    """Transactional tests start from whatever the previous one left (a flushed database has no
    page tree and no categories): build what a notice needs when it is missing."""
    from wagtail.models import Locale, Page, Site

    from home.models import HomePage
    from notices.demo import ensure_categories

    Locale.objects.get_or_create(language_code="zh-hans")
    root = Page.get_first_root_node() or Page.add_root(instance=Page(title="Root", slug="root"))
    if not HomePage.objects.exists():
        home = root.add_child(instance=HomePage(title="协调门户首页", slug="home"))
        Site.objects.update_or_create(is_default_site=True, defaults={"hostname": "localhost", "root_page": home})
    ensure_categories()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_clicks_record_once_and_keep_the_first_time(site_tree, org):
    notice = make_notice(title="并发确认", requires_confirmation=True)
    user = org.users["cs_staff"]
    barrier = threading.Barrier(8)
    results, errors = [], []

    def click():
        try:
            barrier.wait()
            results.append(confirm_notice(user, notice.pk, notice.version_revision_id))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert NoticeReceipt.objects.filter(notice=notice, user=user).count() == 1
    assert sum(1 for _, created in results if created) == 1
    stored = NoticeReceipt.objects.get(notice=notice, user=user)
    assert {r.confirmed_at for r, _ in results} == {stored.confirmed_at}
    assert PageLogEntry.objects.filter(page=notice, action="notices.confirm").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_many_people_confirming_at_once_each_get_one_receipt(site_tree, org):
    notice = make_notice(title="多人并发", requires_confirmation=True)
    users = [u for u in org.users.values() if u.is_active][:12]
    barrier = threading.Barrier(len(users) * 2)

    def click(user):
        try:
            barrier.wait()
            confirm_notice(user, notice.pk, notice.version_revision_id)
        finally:
            connection.close()

    threads = [threading.Thread(target=click, args=(u,)) for u in users for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert NoticeReceipt.objects.filter(notice=notice).count() == len(users)


def test_scheduled_notice_starts_its_version_when_it_goes_live(org, django_capture_on_commit_callbacks):
    from django.core.management import call_command

    from portal.notifications.models import Notification

    later = timezone.now() + dt.timedelta(seconds=2)
    with django_capture_on_commit_callbacks(execute=True):
        notice = make_notice(title="定时通告", go_live_at=later, requires_confirmation=True)
    assert not notice.live and notice.version == 0
    assert not NoticePage.objects.current().visible_to(org.users["cs_staff"]).filter(pk=notice.pk).exists()
    import time

    time.sleep(max(0, (later - timezone.now()).total_seconds()) + 0.2)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("publish_scheduled", verbosity=0)
    notice = NoticePage.objects.get(pk=notice.pk)
    assert notice.live and notice.version == 1 and notice.version_revision_id
    assert Notification.objects.filter(event_key=f"notice:{notice.pk}:rev:1:published").exists()
