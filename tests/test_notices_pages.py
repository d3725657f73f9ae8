"""Notices: who sees what (list, page, attachments, search, home, navigation) and list cost."""

import datetime as dt

from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from wagtail.documents.models import Document

import pytest

from notices.factories import bulk_notices, make_notice
from notices.models import NoticeAttachment, NoticePage, NoticeView
from portal.models import Department, Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def sub_department(org):
    """A team under 工程部, to check that a department's notices reach its sub-departments."""
    team = Department.objects.create(name="工程部维修班", code="eng-repair", parent=org.depts["engineering"])
    person = org.users["eng_staff2"]
    person.department = team
    person.save()
    return team


def html(response):
    return response.content.decode()


def test_everyone_notice_is_listed_and_opened_by_everyone(org, login):
    notice = make_notice(title="全员通知")
    client = login(org.users["site_staff"])
    assert "全员通知" in html(client.get("/notices/"))
    assert client.get(notice.url).status_code == 200


def test_department_notice_reaches_sub_departments_only(org, login, sub_department):
    notice = make_notice(title="工程部内部", departments=[org.depts["engineering"]])
    assert login(org.users["eng_staff"]).get(notice.url).status_code == 200
    assert login(org.users["eng_staff2"]).get(notice.url).status_code == 200  # in 维修班, below 工程部
    other = login(org.users["cs_staff"])
    assert other.get(notice.url).status_code == 404
    assert "工程部内部" not in html(other.get("/notices/"))
    assert "工程部内部" not in html(other.get("/"))


def test_sub_department_notice_does_not_reach_the_parent(org, login, sub_department):
    notice = make_notice(title="维修班通知", departments=[sub_department])
    assert login(org.users["eng_staff2"]).get(notice.url).status_code == 200
    assert login(org.users["eng_staff"]).get(notice.url).status_code == 404


def test_role_audience_includes_structural_and_assigned_roles(org, login):
    heads = make_notice(title="致部门负责人", roles=[Role.objects.get(code=Role.DEPARTMENT_HEAD)])
    coordinators = make_notice(title="致协调岗", roles=[Role.objects.get(code=Role.COORDINATOR)])
    assert login(org.users["eng_head"]).get(heads.url).status_code == 200
    assert login(org.users["eng_staff"]).get(heads.url).status_code == 404
    assert login(org.users["coordinator"]).get(coordinators.url).status_code == 200
    assert login(org.users["cs_head"]).get(coordinators.url).status_code == 404


def test_named_people_and_person_without_department(org, login):
    notice = make_notice(title="点名通知", people=[org.users["nodept"]])
    assert login(org.users["nodept"]).get(notice.url).status_code == 200
    assert login(org.users["cs_staff"]).get(notice.url).status_code == 404
    everyone = make_notice(title="全员")
    assert login(org.users["nodept"]).get(everyone.url).status_code == 200


def test_unpublished_expired_and_future_notices_are_hidden(org, login):
    draft = make_notice(title="草稿", publish=False)
    expired = make_notice(title="已过期", expire_at=timezone.now() + dt.timedelta(seconds=1))
    NoticePage.objects.filter(pk=expired.pk).update(expire_at=timezone.now() - dt.timedelta(minutes=1))
    client = login(org.users["cs_staff"])
    listing = html(client.get("/notices/"))
    assert "草稿" not in listing and "已过期" not in listing
    assert client.get(expired.url).status_code == 404
    assert client.get("/notices/" + draft.slug + "/").status_code == 404


def test_editor_outside_audience_may_open_but_gets_no_confirm_button(org, login):
    notice = make_notice(title="工程部确认", departments=[org.depts["engineering"]], requires_confirmation=True)
    response = login(org.users["admin"]).get(notice.url)
    assert response.status_code == 200
    assert "编辑者预览" in html(response)
    assert not NoticeView.objects.filter(notice=notice).exists()


def test_attachment_only_for_the_audience(org, login):
    doc = Document.objects.create(title="排班表", file=ContentFile(b"roster", name="roster.txt"))
    notice = make_notice(title="带附件", departments=[org.depts["engineering"]])
    item = NoticeAttachment.objects.create(page=notice, document=doc, title="排班表")
    url = reverse("notices:attachment", args=[notice.pk, item.pk])
    inside = login(org.users["eng_staff"]).get(url)
    assert inside.status_code == 200 and b"".join(inside.streaming_content) == b"roster"
    outside = login(org.users["cs_staff"])
    assert outside.get(url).status_code == 404
    # Wagtail's own document URL is guarded too.
    assert outside.get(doc.url).status_code == 404
    assert login(org.users["eng_staff"]).get(doc.url).status_code == 200


def test_opening_records_a_view_once(org, login):
    notice = make_notice(title="打开记录")
    client = login(org.users["cs_staff"])
    client.get(notice.url)
    client.get(notice.url)
    assert NoticeView.objects.filter(notice=notice, user=org.users["cs_staff"], version=1).count() == 1


def test_list_puts_unread_first_then_pinned(org, login):
    read = make_notice(title="甲已读通知")
    make_notice(title="乙未读通知")
    make_notice(title="丙置顶未读", pinned_until=timezone.now() + dt.timedelta(days=2))
    old_pin = make_notice(title="丁置顶已读", pinned_until=timezone.now() + dt.timedelta(days=2))
    user = org.users["cs_staff"]
    for n in (read, old_pin):
        NoticeView.objects.create(notice=n, user=user, version=1)
    page = html(login(user).get("/notices/"))
    order = [page.index(t) for t in ("丙置顶未读", "乙未读通知", "丁置顶已读", "甲已读通知")]
    assert order == sorted(order)
    only_unread = html(login(user).get("/notices/?unread=1"))
    assert "乙未读通知" in only_unread and "甲已读通知" not in only_unread


def test_navigation_badge_and_home_panel_show_unread(org, login):
    make_notice(title="需确认A", requires_confirmation=True)
    make_notice(title="普通B")
    make_notice(title="别人的C", departments=[org.depts["engineering"]])
    response = login(org.users["cs_staff"]).get("/")
    page = html(response)
    assert '通告 <span class="badge"' in page and ">2</span>" in page
    assert "需确认A" in page and "普通B" in page and "别人的C" not in page


def test_search_filters_by_audience(org):
    # Words separated by spaces: Chinese word segmentation is the search app's business.
    make_notice(title="冬季 消防 检查", departments=[org.depts["engineering"]])
    make_notice(title="客服 消防 演练")
    qs = NoticePage.objects.current().visible_to(org.users["cs_staff"])
    titles = {n.title for n in qs.search("消防")}
    assert titles == {"客服 消防 演练"}
    assert {n.title for n in NoticePage.objects.for_user(org.users["eng_staff"]).search("消防")} == {
        "冬季 消防 检查",
        "客服 消防 演练",
    }


def _list_queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/notices/")
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_list_query_count_does_not_grow_with_5000_notices(org, login):
    make_notice(title="起点", departments=[org.depts["service"]], requires_confirmation=True)
    client = login(org.users["cs_staff"])
    client.get("/notices/")  # warm caches (site root, content types)
    few = _list_queries(client)
    bulk_notices(2500)
    bulk_notices(2500, everyone=False, department_ids=[org.depts["service"].pk], requires_confirmation=True)
    assert NoticePage.objects.current().visible_to(org.users["cs_staff"]).count() == 5001
    many = _list_queries(client)
    assert many == few, f"{few} queries with 1 notice, {many} with 5,001"
    assert client.get("/").status_code == 200
