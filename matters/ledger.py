"""台账 (ledgers) and the monthly on-time figures per department.

The ledger is a filtered list of matters; the figures are computed from the history
(``MatterEvent``): received = routed or reassigned to the department in the month; accepted /
resolved on time = the 受理 / 办结 event's time against the deadline recorded in it; average
working days to resolve = from routing to the 办结 event, on the work calendar; overdue now =
open matters of the department past their current deadline (a snapshot).
"""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from dataclasses import dataclass

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.models import Department
from portal.workdays import WorkCalendar

from .models import OPEN_STATUSES, Grade, Matter, MatterEvent, MatterStatus


def month_bounds(year: int, month: int) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_default_timezone()
    start = dt.datetime(year, month, 1, tzinfo=tz)
    end = dt.datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz)
    return start, end


# Overdue is the handling department's: waiting for the originator's confirmation is not.
DEPARTMENT_STAGES = OPEN_STATUSES - {MatterStatus.RESOLVED, MatterStatus.SUBMITTED}


def overdue_q(now=None) -> Q:
    now = now or timezone.now()
    return Q(status__in=DEPARTMENT_STAGES, current_due_at__lt=now, paused_at__isnull=True)


class LedgerFilter(forms.Form):
    department = forms.ModelChoiceField(
        label=_("牵头部门"), queryset=Department.objects.all(), required=False
    )
    form = forms.ModelChoiceField(label=_("表单"), queryset=None, required=False)
    status = forms.ChoiceField(label=_("状态"), required=False)
    grade = forms.ChoiceField(label=_("等级"), required=False, choices=[("", _("全部")), *Grade.choices])
    start = forms.DateField(label=_("提交日期从"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("到"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    overdue = forms.BooleanField(label=_("只看逾期"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from forms.models import FormPage

        self.fields["form"].queryset = FormPage.objects.order_by("path")
        self.fields["status"].choices = [("", _("全部")), ("open", _("办理中")), *MatterStatus.choices]

    def filter(self, qs):
        if not self.is_valid():
            return qs
        d = self.cleaned_data
        if d.get("department"):
            qs = qs.filter(lead_department=d["department"])
        if d.get("form"):
            qs = qs.filter(source_page_id=d["form"].pk)
        if d.get("status") == "open":
            qs = qs.open()
        elif d.get("status"):
            qs = qs.filter(status=d["status"])
        if d.get("grade"):
            qs = qs.filter(grade=d["grade"])
        tz = timezone.get_default_timezone()
        if d.get("start"):
            qs = qs.filter(created_at__gte=dt.datetime.combine(d["start"], dt.time.min, tzinfo=tz))
        if d.get("end"):
            qs = qs.filter(created_at__lt=dt.datetime.combine(d["end"] + dt.timedelta(days=1), dt.time.min, tzinfo=tz))
        if d.get("overdue"):
            qs = qs.filter(overdue_q())
        return qs


def ledger_queryset(user):
    return (
        Matter.objects.visible_to(user)
        .select_related("submitter", "submitter_department", "lead_department", "handler", "source_page")
        .prefetch_related("cooperating_departments")
    )


LEDGER_COLUMNS = [
    _("编号"), _("标题"), _("表单"), _("提交人"), _("提交部门"), _("提交时间"), _("牵头部门"), _("配合部门"), _("经办人"),
    _("等级"), _("紧急程度"), _("状态"), _("受理时限"), _("办结时限"), _("承诺日期"), _("当前时限"), _("逾期"),
]


def ledger_row(m: Matter, now) -> list:
    def t(x):
        return timezone.localtime(x).strftime("%Y-%m-%d %H:%M") if x else ""

    return [
        m.reference,
        m.title,
        m.source_page.title if m.source_page_id else "",
        m.submitter.get_full_name(),
        m.submitter_department.name if m.submitter_department_id else "",
        t(m.created_at),
        m.lead_department.name if m.lead_department_id else "",
        "、".join(d.name for d in m.cooperating_departments.all()),
        m.handler.get_full_name() if m.handler_id else "",
        m.get_grade_display(),
        m.get_urgency_display(),
        m.get_status_display(),
        t(m.accept_due),
        t(m.resolve_due),
        m.commitment_date.isoformat() if m.commitment_date else "",
        t(m.current_due_at),
        "是" if m.is_overdue_at(now) else "",
    ]


def ledger_xlsx(matters) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    wb = Workbook()
    ws = wb.active
    ws.title = "事项台账"
    ws.append([str(c) for c in LEDGER_COLUMNS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    red = PatternFill("solid", fgColor="FDE2E1")
    now = timezone.now()
    for m in matters:
        row = ledger_row(m, now)
        ws.append(row)
        if row[-1]:
            for cell in ws[ws.max_row]:
                cell.fill = red
    for col, width in zip("ABCDEFGHIJKLMNOPQ", [16, 30, 14, 10, 14, 17, 12, 20, 10, 6, 8, 8, 17, 17, 12, 17, 6], strict=True):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# -- monthly figures -------------------------------------------------------------------------------


@dataclass
class DeptFigures:
    department_id: int
    name: str
    received: int = 0
    accepted: int = 0
    accepted_on_time: int = 0
    resolved: int = 0
    resolved_on_time: int = 0
    resolve_days_total: int = 0
    overdue_now: int = 0

    @property
    def average_days(self) -> float | None:
        return round(self.resolve_days_total / self.resolved, 1) if self.resolved else None

    @property
    def accepted_rate(self) -> int | None:
        return round(100 * self.accepted_on_time / self.accepted) if self.accepted else None

    @property
    def resolved_rate(self) -> int | None:
        return round(100 * self.resolved_on_time / self.resolved) if self.resolved else None


def _on_time(event: MatterEvent) -> bool:
    due = event.data.get("due") if isinstance(event.data, dict) else None
    if not due:
        return True
    return event.created_at <= dt.datetime.fromisoformat(due)


def monthly_figures(year: int, month: int, *, now=None, cal: WorkCalendar | None = None) -> list[DeptFigures]:
    """One row per department with anything to count, in department order. Three queries."""
    start, end = month_bounds(year, month)
    cal = cal or WorkCalendar()
    now = now or timezone.now()
    rows: dict[int, DeptFigures] = {}
    names = dict(Department.objects.values_list("pk", "name"))

    def row(dept_id) -> DeptFigures | None:
        if dept_id not in names:
            return None
        if dept_id not in rows:
            rows[dept_id] = DeptFigures(dept_id, names[dept_id])
        return rows[dept_id]

    events = MatterEvent.objects.filter(
        created_at__gte=start, created_at__lt=end, kind__in=["routed", "reassigned", "accepted", "resolved"]
    ).only("kind", "data", "created_at")
    for e in events:
        data = e.data if isinstance(e.data, dict) else {}
        r = row(data.get("department"))
        if r is None:
            continue
        if e.kind in {"routed", "reassigned"}:
            r.received += 1
        elif e.kind == "accepted":
            r.accepted += 1
            r.accepted_on_time += _on_time(e)
        else:
            r.resolved += 1
            r.resolved_on_time += _on_time(e)
            since = data.get("since")
            if since:
                r.resolve_days_total += max(0, cal.working_days_between(dt.datetime.fromisoformat(since), e.created_at))
    overdue = defaultdict(int)
    for dept_id in Matter.objects.filter(overdue_q(now)).values_list("lead_department_id", flat=True):
        overdue[dept_id] += 1
    for dept_id, n in overdue.items():
        r = row(dept_id)
        if r is not None:
            r.overdue_now = n
    order = list(names)
    return sorted(rows.values(), key=lambda r: order.index(r.department_id))


def chart(rows: list[DeptFigures]) -> dict:
    """Geometry for the inline SVG bar chart: received, resolved on time, overdue now."""
    top = max([1, *(max(r.received, r.resolved_on_time, r.overdue_now) for r in rows)])
    bars = []
    for i, r in enumerate(rows):
        y = 10 + i * 46
        bars.append(
            {
                "name": r.name,
                "y": y,
                "label_y": y + 20,
                "series": [
                    {"y": y + j * 12, "w": round(260 * v / top, 1), "v": v, "cls": cls, "ty": y + j * 12 + 9}
                    for j, (v, cls) in enumerate(
                        [(r.received, "received"), (r.resolved_on_time, "ontime"), (r.overdue_now, "overdue")]
                    )
                ],
            }
        )
    return {"bars": bars, "height": 20 + len(rows) * 46}
