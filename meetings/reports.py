"""督办台账 and 督办周报: decisions by series, department and state; XLSX exports.

Both read a fixed number of queries whatever the number of decisions (guarded by a test and
benchmarked in ``bench/``)."""

from __future__ import annotations

import datetime as dt
import io
from collections import OrderedDict

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Decision, DecisionState

STATES = {
    "on_time": _("按期办理中"),
    "due_week": _("本周到期"),
    "overdue": _("已逾期"),
    "done": _("已完成"),
}


def week_bounds(today: dt.date) -> tuple[dt.date, dt.date]:
    monday = today - dt.timedelta(days=today.weekday())
    return monday, monday + dt.timedelta(days=6)


def state_of(decision: Decision, today: dt.date) -> str:
    if decision.state == DecisionState.DONE:
        return "done"
    if decision.due_date < today:
        return "overdue"
    if decision.due_date <= week_bounds(today)[1]:
        return "due_week"
    return "on_time"


def filter_ledger(qs, *, series=None, department=None, state: str = "", today: dt.date | None = None):
    today = today or timezone.localdate()
    if series:
        qs = qs.filter(meeting__type=series)
    if department:
        qs = qs.filter(responsible_department=department)
    monday, sunday = week_bounds(today)
    if state == "done":
        qs = qs.filter(state=DecisionState.DONE)
    elif state == "overdue":
        qs = qs.filter(state=DecisionState.OPEN, due_date__lt=today)
    elif state == "due_week":
        qs = qs.filter(state=DecisionState.OPEN, due_date__gte=today, due_date__lte=sunday)
    elif state == "on_time":
        qs = qs.filter(state=DecisionState.OPEN, due_date__gt=sunday)
    return qs.select_related("meeting__type", "responsible_department", "responsible_person", "matter")


def weekly_report(qs, today: dt.date | None = None) -> list[dict]:
    """Per department: due this week, done (this week), overdue now, and the overdue rows with
    their reasons. One aggregate query plus one for the overdue rows."""
    today = today or timezone.localdate()
    monday, sunday = week_bounds(today)
    # Datetime bounds, not ``closed_at__date``: no per-row date cast (a Python function on SQLite).
    week_start = timezone.make_aware(dt.datetime.combine(monday, dt.time.min))
    week_end = week_start + dt.timedelta(days=7)
    figures = (
        qs.values("responsible_department_id", "responsible_department__name")
        .annotate(
            due=Count("pk", filter=Q(due_date__gte=monday, due_date__lte=sunday)),
            done=Count("pk", filter=Q(state=DecisionState.DONE, closed_at__gte=week_start,
                                      closed_at__lt=week_end)),
            overdue=Count("pk", filter=Q(state=DecisionState.OPEN, due_date__lt=today)),
            open=Count("pk", filter=Q(state=DecisionState.OPEN)),
        )
        .order_by("responsible_department__name")
    )
    rows: OrderedDict[int, dict] = OrderedDict()
    for f in figures:
        rows[f["responsible_department_id"]] = {
            "department": f["responsible_department__name"], "due": f["due"], "done": f["done"],
            "overdue": f["overdue"], "open": f["open"], "overdue_items": [],
        }
    # Plain dicts, not model instances: thousands of overdue rows cost no more than the SQL.
    late = qs.filter(state=DecisionState.OPEN, due_date__lt=today).order_by("due_date").values_list(
        "responsible_department_id", "text", "due_date", "overdue_reason", "meeting__subject")
    for dept_id, text, due, reason, subject in late:
        rows[dept_id]["overdue_items"].append({"text": text, "due_date": due, "overdue_reason": reason,
                                               "meeting": subject})
    return list(rows.values())


def _workbook(headers, rows, title):
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = title
    ws.append(headers)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def ledger_xlsx(decisions, today: dt.date) -> bytes:
    headers = [_("会议"), _("会议日期"), _("决议"), _("责任部门"), _("责任人"), _("期限"), _("状态"), _("督办事项"),
               _("完成情况"), _("逾期原因")]
    rows = (
        [d.meeting.subject, timezone.localtime(d.meeting.start).date(), d.text, d.responsible_department.name,
         d.responsible_person.get_full_name() if d.responsible_person_id else "", d.due_date,
         str(STATES[state_of(d, today)]), d.matter.reference if d.matter_id else "", d.result, d.overdue_reason]
        for d in decisions
    )
    return _workbook(headers, rows, str(_("督办台账")))


def weekly_xlsx(report: list[dict]) -> bytes:
    headers = [_("部门"), _("本周到期"), _("本周完成"), _("逾期"), _("未完成"), _("逾期事项及原因")]
    rows = (
        [r["department"], r["due"], r["done"], r["overdue"], r["open"],
         "；".join(f"{d['text'][:40]}（{d['due_date']}）{d['overdue_reason']}" for d in r["overdue_items"])]
        for r in report
    )
    return _workbook(headers, rows, str(_("督办周报")))
