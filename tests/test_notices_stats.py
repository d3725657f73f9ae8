"""Statistics, exports, reminders (manual, automatic, after the deadline) and the portal hooks."""

import csv
import datetime as dt
import io

from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from wagtail import hooks
from wagtail.models import PageLogEntry

import pytest
from openpyxl import load_workbook

from notices.factories import make_notice
from notices.models import NoticePage, NoticeReceipt, NoticeReminder, NoticeView
from notices.services import ReminderTooSoon, confirm_notice, remind_unconfirmed, send_due_reminders
from notices.statistics import notice_statistics
from portal.models import Department, User
from portal.notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def notice(org):
    """A 客服部 notice to confirm: 客服部 has cs_head, cs_liaison, cs_staff, cs_staff2."""
    n = make_notice(
        title="客服部培训通知",
        departments=[org.depts["service"], org.depts["sunshine"]],
        issuing_department=org.depts["service"],
        requires_confirmation=True,
        confirm_deadline=timezone.now() + dt.timedelta(days=1),
        user=org.users["admin"],
    )
    confirm_notice(org.users["cs_liaison"], n.pk, n.version_revision_id)
    NoticeView.objects.create(notice=n, user=org.users["cs_staff"], version=1)
    return n


def test_statistics_counts_per_department(org, notice):
    stats = notice_statistics(notice)
    assert (stats.audience, stats.confirmed, stats.viewed_only, stats.not_opened) == (6, 1, 1, 4)
    service = stats.department(org.depts["service"].pk)
    assert (service.total, service.confirmed, service.viewed_only, service.not_opened) == (4, 1, 1, 2)
    assert service.rate_percent == "25.0%"
    assert stats.department(org.depts["sunshine"].pk).total == 2


def test_statistics_page_for_issuing_head_and_editors_only(org, login, notice):
    url = reverse("notices:statistics", args=[notice.pk])
    page = login(org.users["cs_head"]).get(url)
    html = page.content.decode()
    assert page.status_code == 200
    assert "应读人数" in html and "刘洋" in html and "黄丹" not in html  # unconfirmed list only
    assert "韩冬" in html and "阳光花园管理处" in html
    assert (
        login(org.users["admin"]).get(reverse("notices_admin:statistics", args=[notice.pk])).status_code
        == 200
    )
    assert login(org.users["cs_staff"]).get(url).status_code == 403
    assert login(org.users["eng_head"]).get(url).status_code == 403
    # The issuing head sees the link on the notice itself.
    assert url in login(org.users["cs_head"]).get(notice.url).content.decode()
    assert url not in login(org.users["cs_staff"]).get(notice.url).content.decode()


def test_department_filter_and_all_people(org, login, notice):
    client = login(org.users["cs_head"])
    url = reverse("notices:statistics", args=[notice.pk])
    html = client.get(url, {"department": org.depts["sunshine"].pk}).content.decode()
    assert "韩冬" in html and "刘洋" not in html
    html = client.get(url, {"all": "1"}).content.decode()
    assert "黄丹" in html and "已确认" in html


def _statistics_queries(org, notice) -> int:
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    from notices.views import statistics_context

    request = RequestFactory().get("/")
    request.user = org.users["admin"]
    with CaptureQueriesContext(connection) as ctx:
        fresh = NoticePage.objects.select_related("issuing_department", "category").get(pk=notice.pk)
        render_to_string("notices/includes/statistics_body.html", statistics_context(request, fresh), request=request)
    return len(ctx.captured_queries)


def test_statistics_cost_a_constant_number_of_queries(org, notice):
    few = _statistics_queries(org, notice)
    company = org.depts["service"]
    depts = [Department.objects.create(name=f"客服{i}组", code=f"cs-{i}", parent=company) for i in range(20)]
    users = User.objects.bulk_create(
        [User(username=f"p{i}", name=f"员工{i}", employee_no=f"X{i:05d}", department=depts[i % 20]) for i in range(400)]
    )
    NoticeReceipt.objects.bulk_create([NoticeReceipt(notice=notice, user=u, version=1) for u in users[:150]])
    notice = NoticePage.objects.get(pk=notice.pk)
    stats = notice_statistics(notice)
    assert stats.audience == 406 and stats.confirmed == 151
    assert len(stats.departments) == 22
    many = _statistics_queries(org, notice)
    assert many == few <= 10


def test_statistics_page_query_budget(org, login, notice):
    client = login(org.users["admin"])
    url = reverse("notices_admin:statistics", args=[notice.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    notice_queries = [q for q in ctx.captured_queries if "notices_" in q["sql"] or "portal_user" in q["sql"]]
    # session and user, the notice, its audience choices, department tree, GROUP BY, named list, reminders
    assert len(notice_queries) <= 10, "\n".join(q["sql"][:120] for q in notice_queries)


def test_csv_and_xlsx_exports(org, login, notice):
    client = login(org.users["cs_head"])
    response = client.get(reverse("notices:export", args=[notice.pk, "csv"]))
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    people = rows[rows.index(["部门", "姓名", "工号", "职务", "状态", "确认时间", "首次打开时间"]) + 1 :]
    by_name = {r[1]: r for r in people}
    assert by_name["黄丹"][4] == "已确认" and by_name["黄丹"][5]
    assert by_name["刘洋"][4] == "仅打开" and by_name["韩冬"][4] == "未打开"
    response = client.get(reverse("notices:export", args=[notice.pk, "xlsx"]))
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["汇总", "各部门", "人员明细"]
    assert book["人员明细"].max_row == 7
    assert client.get(reverse("notices:export", args=[notice.pk, "pdf"])).status_code == 404
    assert (
        login(org.users["cs_staff"]).get(reverse("notices:export", args=[notice.pk, "csv"])).status_code
        == 403
    )
    assert PageLogEntry.objects.filter(page=notice, action="notices.export").count() == 2


def test_remind_notifies_unconfirmed_once_per_30_minutes(org, login, notice):
    client = login(org.users["admin"])
    url = reverse("notices_admin:remind", args=[notice.pk])
    response = client.post(url, follow=True)
    assert "已提醒 5 位" in response.content.decode()
    reminded = set(
        Notification.objects.filter(channel="inbox", kind="notice.remind").values_list(
            "recipient__username", flat=True
        )
    )
    assert reminded == {"cs_head", "cs_staff", "cs_staff2", "site_head", "site_staff"}
    again = client.post(url, follow=True).content.decode()
    assert "30 分钟内只能提醒一次" in again
    assert Notification.objects.filter(channel="inbox", kind="notice.remind").count() == 5
    assert PageLogEntry.objects.filter(page=notice, action="notices.remind").count() == 1
    NoticeReminder.objects.update(sent_at=timezone.now() - dt.timedelta(minutes=31))
    assert remind_unconfirmed(notice, org.users["admin"]) == 5
    assert client.get(reverse("notices:remind", args=[notice.pk])).status_code == 405


def test_remind_refused_for_notice_without_confirmation(org):
    plain = make_notice(title="普通")
    with pytest.raises(Exception, match="无需确认"):
        remind_unconfirmed(plain, org.users["admin"])
    notice = make_notice(title="需确认", requires_confirmation=True)
    remind_unconfirmed(notice, org.users["admin"])
    with pytest.raises(ReminderTooSoon):
        remind_unconfirmed(notice, org.users["admin"])


def test_automatic_reminders_at_offsets_once_each(org, notice):
    deadline = notice.confirm_deadline
    NoticePage.objects.filter(pk=notice.pk).update(version_started_at=deadline - dt.timedelta(days=3))
    assert send_due_reminders(now=deadline - dt.timedelta(hours=30)).reminders == 0
    result = send_due_reminders(now=deadline - dt.timedelta(hours=23))
    assert result.reminders == 1 and result.reminded_people == 5
    assert send_due_reminders(now=deadline - dt.timedelta(hours=22)).reminders == 0
    assert send_due_reminders(now=deadline - dt.timedelta(hours=1)).reminders == 1
    keys = set(
        Notification.objects.filter(channel="inbox", kind="notice.remind").values_list("event_key", flat=True)
    )
    assert keys == {f"notice:{notice.pk}:rev:1:remind:auto-24h", f"notice:{notice.pk}:rev:1:remind:auto-2h"}
    assert PageLogEntry.objects.filter(page=notice, action="notices.remind_auto").count() == 2


def test_after_deadline_each_head_gets_their_people(org, notice):
    deadline = notice.confirm_deadline
    result = send_due_reminders(now=deadline + dt.timedelta(minutes=5))
    assert result.overdue_reports == 1
    notes = {
        n.recipient.username: n
        for n in Notification.objects.filter(channel="inbox", kind="notice.overdue_department")
    }
    assert set(notes) == {"cs_head", "site_head"}
    assert "刘洋" in notes["cs_head"].body and "唐亮" not in notes["cs_head"].body
    assert "唐亮" in notes["site_head"].body
    assert send_due_reminders(now=deadline + dt.timedelta(minutes=15)).overdue_reports == 0


def test_new_notice_is_announced_to_its_audience(org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notice = make_notice(title="工程部公告", departments=[org.depts["engineering"]])
    recipients = set(
        Notification.objects.filter(channel="inbox", kind="notice.published").values_list(
            "recipient__username", flat=True
        )
    )
    assert recipients == {"eng_head", "eng_liaison", "eng_staff", "eng_staff2"}
    assert (
        Notification.objects.filter(channel="inbox", event_key=f"notice:{notice.pk}:rev:1:published").count()
        == 4
    )


def test_portal_hooks(org, notice, rf):
    staff = org.users["cs_staff"]
    from notices.wagtail_hooks import digest_section

    assert digest_section in hooks.get_hooks("portal_digest_sections")
    digest = digest_section(staff)
    assert digest["title"] and digest["items"][0]["text"].startswith("客服部培训通知")
    confirm_notice(staff, notice.pk, notice.version_revision_id)
    assert digest_section(staff) is None
    from notices.wagtail_hooks import notification_kinds

    assert notification_kinds in hooks.get_hooks("portal_notification_kinds")
    kinds = notification_kinds()
    assert ("notice.remind", "通告已阅提醒", True) in kinds and all(k[0].startswith("notice.") for k in kinds)
    from portal.schedules import declared_schedules

    funcs = {s.func for s in declared_schedules()}
    assert {"notices.tasks.send_due_reminders", "notices.tasks.publish_scheduled_pages"} <= funcs


def test_scheduled_task_entry_points_run(org, notice):
    from notices import tasks

    assert tasks.send_due_reminders()["reminders"] == 0
    tasks.publish_scheduled_pages()


def test_seed_demo_notices_idempotent(org):
    from notices.demo import seed_notices

    seed_notices(log=lambda *a: None)
    counts = (NoticePage.objects.count(), NoticeReceipt.objects.count(), NoticeView.objects.count())
    seed_notices(log=lambda *a: None)
    assert (NoticePage.objects.count(), NoticeReceipt.objects.count(), NoticeView.objects.count()) == counts
    revised = NoticePage.objects.get(slug="complaint-handling-procedure")
    assert revised.version == 2
    assert NoticePage.objects.get(slug="engineering-inspection-roster").audience_departments.count() == 1
    assert notice_statistics(revised).confirmed == 3
    call_command("setup_schedules", stdout=io.StringIO())


def test_admin_editor_validates_audience_in_chinese(org, login):
    from wagtail.test.utils.form_data import inline_formset, nested_form_data, streamfield

    from notices.factories import notice_index

    index = notice_index()
    client = login(org.users["admin"])
    url = reverse("wagtailadmin_pages:add", args=["notices", "noticepage", index.pk])
    assert client.get(url).status_code == 200
    data = nested_form_data(
        {
            "title": "无范围通告",
            "slug": "no-audience",
            "issuing_department": org.depts["service"].pk,
            "category": 1,
            "summary": "",
            "body": streamfield([]),
            "attachments": inline_formset([]),
            "audience_everyone": "",
            "confirm_deadline": "",
            "pinned_until": "",
        }
    )
    response = client.post(url, data)
    assert response.status_code == 200
    assert "至少选择一个部门、角色或人员" in response.content.decode()
    data["audience_departments"] = [org.depts["service"].pk]
    data["action-publish"] = "publish"
    response = client.post(url, data)
    assert response.status_code == 302
    created = NoticePage.objects.get(slug="no-audience")
    assert created.live and created.version == 1


def test_named_list_pages_across_departments_in_order(org, login, notice):
    company = org.depts["service"]
    depts = [Department.objects.create(name=f"客服{i}组", code=f"cs-{i}", parent=company, sort_order=i) for i in range(3)]
    User.objects.bulk_create(
        [User(username=f"q{i}", name=f"组员{i:03d}", employee_no=f"Q{i:03d}", department=depts[i % 3]) for i in range(150)]
    )
    client = login(org.users["admin"])
    url = reverse("notices_admin:statistics", args=[notice.pk])
    seen = []
    for number in (1, 2, 3, 4):
        html = client.get(url, {"page": number}).content.decode()
        rows = [r.strip() for r in html.splitlines()]
        seen += [r for r in rows if r.startswith("<tr><td>") and not r.startswith("<tr><td><a")]
    # 155 unconfirmed people (150 new + 5), 50 a page: 1..155 in order, once each.
    assert [int(row.split("</td>")[0].removeprefix("<tr><td>")) for row in seen] == list(range(1, 156))
    names = [row.split("</td><td>")[1] for row in seen]
    assert len(set(names)) == 155
    assert names.index("组员000") < names.index("组员003") < names.index("组员001")  # 0组 before 1组
