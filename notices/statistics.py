"""Read statistics of one notice: a fixed handful of queries whatever the audience size.

Audience, receipts and views meet in one LEFT JOIN … GROUP BY department; the named lists are
sliced in SQL. Exports stream every person of the audience with their state.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.db.models import Count, Exists, F, FilteredRelation, Max, OuterRef, Q, Subquery
from django.utils import timezone

from portal.models import User

from .audience import audience_choices, audience_users
from .models import NoticePage

STATE_CONFIRMED = "已确认"
STATE_VIEWED = "仅打开"
STATE_NOT_OPENED = "未打开"


@dataclass
class DepartmentStats:
    department_id: int | None
    name: str
    total: int
    confirmed: int
    viewed_only: int
    late: int = 0
    sort_key: tuple = ()

    @property
    def not_opened(self) -> int:
        return self.total - self.confirmed - self.viewed_only

    @property
    def unconfirmed(self) -> int:
        return self.total - self.confirmed

    @property
    def rate(self) -> float:
        return self.confirmed / self.total if self.total else 0.0

    @property
    def rate_percent(self) -> str:
        return f"{self.rate * 100:.1f}%"


@dataclass
class NoticeStatistics:
    notice: NoticePage
    departments: list[DepartmentStats] = field(default_factory=list)

    @property
    def audience(self) -> int:
        return sum(d.total for d in self.departments)

    @property
    def confirmed(self) -> int:
        return sum(d.confirmed for d in self.departments)

    @property
    def viewed_only(self) -> int:
        return sum(d.viewed_only for d in self.departments)

    @property
    def not_opened(self) -> int:
        return self.audience - self.confirmed - self.viewed_only

    @property
    def unconfirmed(self) -> int:
        return self.audience - self.confirmed

    @property
    def late(self) -> int:
        return sum(d.late for d in self.departments)

    @property
    def rate_percent(self) -> str:
        return f"{(self.confirmed / self.audience * 100) if self.audience else 0:.1f}%"

    def department(self, department_id) -> DepartmentStats | None:
        for row in self.departments:
            if row.department_id == department_id:
                return row
        return None


def _with_state(notice: NoticePage, users):
    """Join each person's receipt and view of the current version (at most one of each)."""
    return users.annotate(
        rc=FilteredRelation(
            "notice_receipts",
            condition=Q(notice_receipts__notice_id=notice.pk, notice_receipts__version=notice.version),
        ),
        vw=FilteredRelation(
            "notice_views", condition=Q(notice_views__notice_id=notice.pk, notice_views__version=notice.version)
        ),
    )


def notice_statistics(notice: NoticePage) -> NoticeStatistics:
    users = _with_state(notice, audience_users(notice))
    # GROUP BY the department id alone (a hash aggregate, like the raw SQL it is measured
    # against); the few department names come from a second, tiny query.
    # GROUP BY the department id alone (a hash aggregate, like the raw SQL it is measured
    # against); the department's name and order ride along as MAX over the group.
    counts = {
        "total": Count("pk"),
        "confirmed": Count("rc__id"),
        "viewed_only": Count("vw__id", filter=Q(rc__id__isnull=True)),
        "dept_name": Max("department__name"),
        "dept_order": Max("department__sort_order"),
    }
    if notice.confirm_deadline:
        counts["late"] = Count("rc__id", filter=Q(rc__confirmed_at__gt=notice.confirm_deadline))
    rows = list(users.values("department_id").annotate(**counts).order_by())
    stats = NoticeStatistics(notice=notice)
    for row in rows:
        name, order = row["dept_name"] or "未分配部门", row["dept_order"]
        stats.departments.append(
            DepartmentStats(
                department_id=row["department_id"],
                name=name,
                total=row["total"],
                confirmed=row["confirmed"],
                viewed_only=row["viewed_only"],
                late=row.get("late", 0),
                sort_key=(order is None, order or 0, name),
            )
        )
    stats.departments.sort(key=lambda d: d.sort_key)
    return stats


def people_with_state(notice: NoticePage, *, department_ids=None, only_unconfirmed=False):
    """Everyone in the audience with ``confirmed_at`` and ``viewed_at``, by department then 工号.

    NOT EXISTS for “unconfirmed” (an anti-join the planner estimates well) and per-row
    subqueries for the two times, which only the rows on the page need. ``department_ids``
    (None for everyone) narrows to departments; None in the list means “no department”."""
    from .models import NoticeReceipt, NoticeView

    receipts = NoticeReceipt.objects.filter(notice_id=notice.pk, version=notice.version, user_id=OuterRef("pk"))
    views = NoticeView.objects.filter(notice_id=notice.pk, version=notice.version, user_id=OuterRef("pk"))
    users = audience_users(notice)
    if department_ids is not None and not notice.audience_everyone:
        chosen_departments, roles, people = audience_choices(notice)
        if chosen_departments and not roles and not people:
            # Departments alone: everyone active in a listed department is in the audience.
            users = User.objects.filter(is_active=True)
    if department_ids is not None:
        ids = [d for d in department_ids if d is not None]
        q = Q(department_id__in=ids)
        if None in department_ids:
            q |= Q(department_id__isnull=True)
        users = users.filter(q)
    if only_unconfirmed:
        users = users.filter(~Exists(receipts))
    return (
        users.select_related("department")
        .only("username", "name", "first_name", "last_name", "employee_no", "title", "department__name")
        .annotate(
            confirmed_at=Subquery(receipts.values("confirmed_at")[:1]),
            viewed_at=Subquery(views.values("viewed_at")[:1]),
        )
        .order_by(F("department__sort_order").asc(nulls_last=True), "department__name", "employee_no", "pk")
    )


def state_label(person) -> str:
    if person.confirmed_at:
        return STATE_CONFIRMED
    if person.viewed_at:
        return STATE_VIEWED
    return STATE_NOT_OPENED


# Exports ------------------------------------------------------------------------

PEOPLE_HEADER = ["部门", "姓名", "工号", "职务", "状态", "确认时间", "首次打开时间"]
DEPARTMENT_HEADER = ["部门", "应读人数", "已确认", "仅打开", "未打开", "确认率", "逾期确认"]


def _fmt(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def _people_rows(notice):
    for person in people_with_state(notice).iterator(chunk_size=2000):
        yield [
            person.department.name if person.department_id else "未分配部门",
            person.get_full_name(),
            person.employee_no or "",
            person.title,
            state_label(person),
            _fmt(person.confirmed_at),
            _fmt(person.viewed_at),
        ]


def _department_rows(stats):
    for d in stats.departments:
        yield [d.name, d.total, d.confirmed, d.viewed_only, d.not_opened, d.rate_percent, d.late]


def export_csv(notice: NoticePage) -> bytes:
    stats = notice_statistics(notice)
    out = io.StringIO()
    out.write("\ufeff")  # so Excel opens UTF-8 Chinese correctly
    writer = csv.writer(out)
    writer.writerow(["通告", notice.title, "版本", notice.version])
    writer.writerow(["应读人数", stats.audience, "已确认", stats.confirmed, "仅打开", stats.viewed_only, "未打开", stats.not_opened])
    writer.writerow([])
    writer.writerow(DEPARTMENT_HEADER)
    writer.writerows(_department_rows(stats))
    writer.writerow([])
    writer.writerow(PEOPLE_HEADER)
    writer.writerows(_people_rows(notice))
    return out.getvalue().encode("utf-8")


def export_xlsx(notice: NoticePage) -> bytes:
    from openpyxl import Workbook

    stats = notice_statistics(notice)
    book = Workbook(write_only=True)
    summary = book.create_sheet("汇总")
    summary.append(["通告", notice.title])
    summary.append(["发文部门", notice.issuing_department.name])
    summary.append(["版本", notice.version])
    summary.append(["确认截止", _fmt(notice.confirm_deadline)])
    summary.append(["导出时间", _fmt(timezone.now())])
    for label, value in (
        ("应读人数", stats.audience),
        ("已确认", stats.confirmed),
        ("仅打开", stats.viewed_only),
        ("未打开", stats.not_opened),
        ("确认率", stats.rate_percent),
    ):
        summary.append([label, value])
    depts = book.create_sheet("各部门")
    depts.append(DEPARTMENT_HEADER)
    for row in _department_rows(stats):
        depts.append(row)
    people = book.create_sheet("人员明细")
    people.append(PEOPLE_HEADER)
    for row in _people_rows(notice):
        people.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
