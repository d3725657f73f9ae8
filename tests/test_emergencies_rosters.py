"""值班表: the XLSX template round-trips, bad rows are named in Chinese, copying a week,
gap and overlap warnings, the on-duty page with tel: links, 交接班 notes."""

from __future__ import annotations

import datetime as dt
import io

from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from wagtail.models import ModelLogEntry

import pytest

from emergencies import rosters, services
from emergencies.models import DutyShift, HandoverNote
from emergencies.testing import T0, TZ, shift

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook(rows) -> SimpleUploadedFile:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(rosters.HEADERS)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return SimpleUploadedFile("roster.xlsx", out.getvalue(), content_type=XLSX)


@pytest.fixture
def roster_admin(org):
    user = org.users["coordinator"]
    user.user_permissions.add(*Permission.objects.filter(codename__in=["add_dutyshift", "change_dutyshift"]))
    return user


def test_template_downloads_and_imports_as_it_is(client, org, roster_admin):
    client.force_login(roster_admin)
    response = client.get(reverse("emergencies:roster_template"))
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    created, skipped, _warnings = rosters.import_roster(
        SimpleUploadedFile("t.xlsx", response.content), roster_admin)
    assert (created, skipped) == (3, 0)
    night = DutyShift.objects.get(shift="夜班")
    assert night.ends_at - night.starts_at == dt.timedelta(hours=12)  # 20:00 to 08:00 the next day
    company = DutyShift.objects.get(department__isnull=True)
    assert company.ends_at - company.starts_at == dt.timedelta(hours=24)
    # Importing the same sheet again adds nothing.
    assert rosters.import_roster(SimpleUploadedFile("t.xlsx", response.content), roster_admin)[:2] == (0, 3)
    assert ModelLogEntry.objects.filter(action="emergencies.roster_import").count() == 2


def test_bad_rows_are_listed_by_row_and_nothing_is_imported(org, roster_admin):
    upload = workbook([
        ["工程部", "2026-12-07", "白班", "08:00", "20:00", "eng_staff", ""],
        ["不存在部", "2026-12-07", "白班", "08:00", "20:00", "eng_staff", ""],
        ["工程部", "十二月七日", "白班", "08:00", "20:00", "eng_staff", ""],
        ["工程部", "2026-12-07", "白班", "八点", "20:00", "eng_staff", ""],
        ["工程部", "2026-12-07", "白班", "08:00", "20:00", "ghost", ""],
    ])
    with pytest.raises(services.InvalidInput) as exc:
        rosters.import_roster(upload, roster_admin)
    message = exc.value.message
    assert "第 3 行" in message and "找不到部门“不存在部”" in message
    assert "第 4 行" in message and "日期" in message
    assert "第 5 行" in message and "时间" in message
    assert "第 6 行" in message and "找不到值班人“ghost”" in message
    assert "第 2 行" not in message
    assert DutyShift.objects.count() == 0


def test_a_file_that_is_not_xlsx_is_refused_on_the_page(client, org, roster_admin):
    client.force_login(roster_admin)
    fake = SimpleUploadedFile("roster.xlsx", b"name,date\n", content_type=XLSX)
    response = client.post(reverse("emergencies:roster_tools"), {"action": "import", "file": fake})
    assert response.status_code == 400
    assert "不是 XLSX 表格" in response.content.decode()


def test_roster_tools_need_the_roster_permission(client, org):
    client.force_login(org.users["eng_staff"])
    assert client.get(reverse("emergencies:roster_tools")).status_code == 403
    assert client.get(reverse("emergencies:roster_template")).status_code == 403
    assert client.post(reverse("emergencies:roster_tools"), {"action": "copy"}).status_code == 403


def test_copy_week_to_week_keeps_weekdays_and_times_and_is_idempotent(org, roster_admin):
    monday = dt.date(2026, 12, 7)
    shift(org, "eng_staff", "engineering", start=dt.datetime(2026, 12, 7, 8, tzinfo=TZ))
    shift(org, "eng_staff2", "engineering", start=dt.datetime(2026, 12, 9, 20, tzinfo=TZ))
    assert rosters.copy_week(monday, monday + dt.timedelta(days=7), roster_admin) == 2
    assert rosters.copy_week(monday, monday + dt.timedelta(days=7), roster_admin) == 0
    copied = DutyShift.objects.get(person=org.users["eng_staff2"], date=dt.date(2026, 12, 16))
    assert timezone_hour(copied.starts_at) == 20


def timezone_hour(moment):
    return moment.astimezone(TZ).hour


def test_copy_week_refuses_bad_weeks(org, roster_admin):
    with pytest.raises(services.InvalidInput, match="周一"):
        rosters.copy_week(dt.date(2026, 12, 8), dt.date(2026, 12, 14), roster_admin)
    with pytest.raises(services.InvalidInput, match="没有值班安排"):
        rosters.copy_week(dt.date(2026, 11, 30), dt.date(2026, 12, 14), roster_admin)


def test_overlaps_and_gaps_are_warned(org):
    day = dt.datetime(2026, 12, 7, tzinfo=TZ)
    shift(org, "eng_staff", "engineering", start=day + dt.timedelta(hours=8), hours=12)
    shift(org, "eng_staff2", "engineering", start=day + dt.timedelta(hours=18), hours=6)
    warnings = rosters.roster_warnings(dt.date(2026, 12, 7), dt.date(2026, 12, 7))
    assert any("重叠" in w for w in warnings)
    assert any("00:00 至 08:00 无人值班" in w for w in warnings)


def test_on_duty_page_shows_who_is_on_now_with_a_tel_link(client, org):
    from django.utils import timezone

    now = timezone.now()
    shift(org, "eng_staff", "engineering", start=now - dt.timedelta(hours=1), hours=8, phone="13800000601")
    shift(org, "eng_staff2", "engineering", start=now + dt.timedelta(hours=7), hours=8)
    client.force_login(org.users["cs_staff"])
    html = client.get(reverse("emergencies:on_duty")).content.decode()
    assert 'href="tel:13800000601"' in html
    assert org.users["eng_staff"].get_full_name() in html
    assert org.users["eng_staff2"].get_full_name() not in html
    assert "当前无人值班" in html  # other departments


def test_handover_note_is_saved_and_empty_one_refused(client, org):
    client.force_login(org.users["eng_staff"])
    bad = client.post(reverse("emergencies:on_duty"), {"department": org.depts["engineering"].pk, "text": ""})
    assert bad.status_code == 200 and "请填写交接内容" in bad.content.decode()
    client.post(reverse("emergencies:on_duty"), {"department": org.depts["engineering"].pk, "text": "2 号泵待修"})
    assert HandoverNote.objects.get().text == "2 号泵待修"


def test_shift_must_end_after_it_starts(org):
    from django.core.exceptions import ValidationError

    s = DutyShift(person=org.users["eng_staff"], date=T0.date(), starts_at=T0, ends_at=T0)
    with pytest.raises(ValidationError):
        s.full_clean()


@pytest.mark.parametrize("model", ["emergencytype", "clockpolicy", "dutyshift", "handovernote"])
def test_admin_lists_open_for_the_administrator_and_not_for_staff(client, org, model):
    shift(org, "eng_staff", "engineering")
    client.force_login(org.users["admin"])
    assert client.get(f"/admin/snippets/emergencies/{model}/").status_code == 200
    client.force_login(org.users["eng_staff"])
    assert client.get(f"/admin/snippets/emergencies/{model}/").status_code in (302, 403)


def test_roster_tools_page_renders_for_a_roster_admin(client, org, roster_admin):
    client.force_login(roster_admin)
    response = client.get(reverse("emergencies:roster_tools"))
    assert response.status_code == 200 and "下载导入模板" in response.content.decode()
