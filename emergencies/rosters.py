"""值班表: the XLSX template and import, copying a week, and gap/overlap warnings."""

from __future__ import annotations

import datetime as dt
import io

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wagtail.log_actions import log

from portal.models import Department

from .models import DutyShift
from .services import InvalidInput, find_person

HEADERS = ["部门（留空为公司级）", "日期", "班次", "开始时间", "结束时间", "值班人（用户名/工号/姓名）", "值班电话"]
MAX_ROWS = 2000
MAX_BYTES = 2 * 1024 * 1024


def template_workbook() -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "值班表"
    ws.append(HEADERS)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    today = timezone.localdate()
    ws.append(["工程部", today, "白班", dt.time(8, 0), dt.time(20, 0), "eng_staff", "13800000001"])
    ws.append(["工程部", today, "夜班", dt.time(20, 0), dt.time(8, 0), "eng_staff2", ""])
    ws.append(["", today, "全天", dt.time(0, 0), dt.time(0, 0), "leader", ""])
    for col, width in zip("ABCDEFG", [20, 12, 8, 10, 10, 26, 16], strict=True):
        ws.column_dimensions[col].width = width
    notes = wb.create_sheet("说明")
    for line in [
        "每行一个值班安排。部门填部门名称或代码，留空或填“公司”为公司级值班。",
        "日期格式 2026-12-07；时间格式 08:00。结束时间早于或等于开始时间表示次日结束（如夜班 20:00-08:00，全天 00:00-00:00）。",
        "值班人填用户名、工号或姓名（姓名须唯一）。值班电话留空则使用本人手机。",
        "有任何一行出错时整份表格都不导入，请按提示修改后重新上传。",
    ]:
        notes.append([line])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _as_date(value):
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return dt.date.fromisoformat(value.strip().replace("/", "-"))
    raise ValueError


def _as_time(value):
    if isinstance(value, dt.datetime):
        return value.time()
    if isinstance(value, dt.time):
        return value
    if isinstance(value, str):
        text = value.strip().replace("：", ":")
        hour, minute = text.split(":")[:2]
        return dt.time(int(hour), int(minute))
    raise ValueError


def parse_roster(upload) -> list[DutyShift]:
    """Unsaved shifts from an uploaded workbook, or InvalidInput listing every bad row."""
    from openpyxl import load_workbook

    if upload is None:
        raise InvalidInput(_("请选择要导入的 XLSX 文件。"))
    if upload.size > MAX_BYTES:
        raise InvalidInput(_("文件太大，值班表不能超过 2 MB。"))
    head = upload.read(4)
    upload.seek(0)
    if head != b"PK\x03\x04":
        raise InvalidInput(_("文件“%s”不是 XLSX 表格，请下载模板填写后上传。") % upload.name)
    try:
        wb = load_workbook(upload, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable workbook is the same error for the user
        raise InvalidInput(_("无法读取表格“%s”，请确认它是 Excel 保存的 .xlsx 文件。") % upload.name) from exc
    ws = wb.worksheets[0]
    depts = {}
    for d in Department.objects.filter(is_active=True):
        depts[d.name] = d
        depts[d.code] = d
        if d.short_name:
            depts.setdefault(d.short_name, d)
    tz = timezone.get_current_timezone()
    shifts, errors = [], []
    for n, row in enumerate(ws.iter_rows(min_row=2, values_only=True), start=2):
        cells = list(row[:7]) + [None] * (7 - len(row[:7]))
        if all(c is None or str(c).strip() == "" for c in cells):
            continue
        if len(shifts) + len(errors) >= MAX_ROWS:
            errors.append(_("一次最多导入 %d 行。") % MAX_ROWS)
            break
        dept_text, date_v, shift_name, start_v, end_v, person_text, phone = cells
        problems = []
        dept = None
        dept_text = str(dept_text or "").strip()
        if dept_text and dept_text != "公司":
            dept = depts.get(dept_text)
            if dept is None:
                problems.append(_("找不到部门“%s”") % dept_text)
        try:
            day = _as_date(date_v)
        except (ValueError, TypeError):
            problems.append(_("日期“%s”无法识别（例如 2026-12-07）") % (date_v or ""))
            day = None
        try:
            start_t, end_t = _as_time(start_v), _as_time(end_v)
        except (ValueError, TypeError):
            problems.append(_("开始/结束时间无法识别（例如 08:00）"))
            start_t = end_t = None
        person = find_person(str(person_text or ""))
        if person is None:
            problems.append(_("找不到值班人“%s”") % (person_text or ""))
        phone = str(phone or "").strip()
        if len(phone) > 30:
            problems.append(_("值班电话太长"))
        if problems:
            errors.append(_("第 %(n)d 行：%(p)s。") % {"n": n, "p": "；".join(problems)})
            continue
        starts = timezone.make_aware(dt.datetime.combine(day, start_t), tz)
        ends = timezone.make_aware(dt.datetime.combine(day, end_t), tz)
        if ends <= starts:
            ends += dt.timedelta(days=1)
        shifts.append(DutyShift(department=dept, date=day, shift=str(shift_name or _("白班")).strip()[:20],
                                starts_at=starts, ends_at=ends, person=person, phone=phone))
    if errors:
        raise InvalidInput(" ".join(errors))
    if not shifts:
        raise InvalidInput(_("表格中没有值班安排。"))
    return shifts


def import_roster(upload, actor) -> tuple[int, int, list[str]]:
    """(created, skipped as already present, warnings). All rows or none."""
    shifts = parse_roster(upload)
    with transaction.atomic():
        created = skipped = 0
        for shift in shifts:
            _obj, was_created = DutyShift.objects.get_or_create(
                department=shift.department, person=shift.person, starts_at=shift.starts_at,
                defaults={"date": shift.date, "shift": shift.shift, "ends_at": shift.ends_at, "phone": shift.phone},
            )
            created += was_created
            skipped += not was_created
        dates = sorted({s.date for s in shifts})
        log(instance=actor, action="emergencies.roster_import", user=actor,
            data={"created": created, "skipped": skipped, "from": str(dates[0]), "to": str(dates[-1])})
    return created, skipped, roster_warnings(dates[0], dates[-1])


def copy_week(source_monday: dt.date, target_monday: dt.date, actor, *, department=None) -> int:
    """Copy the shifts of one week onto another, same weekdays and times; idempotent."""
    if source_monday.weekday() != 0 or target_monday.weekday() != 0:
        raise InvalidInput(_("请选择周一作为一周的开始。"))
    if source_monday == target_monday:
        raise InvalidInput(_("源周和目标周不能相同。"))
    shift_by = target_monday - source_monday
    qs = DutyShift.objects.filter(date__gte=source_monday, date__lt=source_monday + dt.timedelta(days=7))
    if department is not None:
        qs = qs.filter(department=department)
    if not qs.exists():
        raise InvalidInput(_("源周（%s 起）没有值班安排可复制。") % source_monday.isoformat())
    created = 0
    with transaction.atomic():
        for s in qs:
            _obj, was_created = DutyShift.objects.get_or_create(
                department_id=s.department_id, person_id=s.person_id, starts_at=s.starts_at + shift_by,
                defaults={"date": s.date + shift_by, "shift": s.shift, "ends_at": s.ends_at + shift_by,
                          "phone": s.phone},
            )
            created += was_created
        log(instance=actor, action="emergencies.roster_copy", user=actor,
            data={"from": str(source_monday), "to": str(target_monday), "created": created})
    return created


def roster_warnings(first: dt.date, last: dt.date) -> list[str]:
    """Overlapping shifts of one department and hours of a day nobody covers (warned, not refused)."""
    tz = timezone.get_current_timezone()
    warnings = []
    shifts = list(
        DutyShift.objects.filter(date__gte=first, date__lte=last).select_related("department", "person")
        .order_by("department_id", "starts_at")
    )
    by_dept: dict = {}
    for s in shifts:
        by_dept.setdefault(s.department_id, []).append(s)
    for items in by_dept.values():
        name = items[0].department.name if items[0].department_id else _("公司级")
        for a, b in zip(items, items[1:], strict=False):
            if b.starts_at < a.ends_at and a.person_id != b.person_id:
                warnings.append(_("%(d)s：%(a)s 与 %(b)s 的值班时间重叠（%(t)s）。") % {
                    "d": name, "a": a.person, "b": b.person, "t": timezone.localtime(b.starts_at).strftime("%m-%d %H:%M")})
        day = first
        while day <= last:
            start = timezone.make_aware(dt.datetime.combine(day, dt.time(0, 0)), tz)
            end = start + dt.timedelta(days=1)
            covered_until = start
            gap = None
            for s in items:
                if s.ends_at <= start or s.starts_at >= end:
                    continue
                if s.starts_at > covered_until and gap is None:
                    gap = (covered_until, s.starts_at)
                covered_until = max(covered_until, s.ends_at)
            if gap is None and covered_until < end and any(s.date == day for s in items):
                gap = (covered_until, end)
            if gap is not None and any(s.date == day for s in items):
                warnings.append(_("%(d)s：%(day)s %(a)s 至 %(b)s 无人值班。") % {
                    "d": name, "day": day.strftime("%m-%d"), "a": timezone.localtime(gap[0]).strftime("%H:%M"),
                    "b": timezone.localtime(gap[1]).strftime("%H:%M")})
            day += dt.timedelta(days=1)
    return warnings
