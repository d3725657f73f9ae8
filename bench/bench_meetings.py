"""督办台账 and 督办周报 over 5,000 decisions in 60 departments, against a raw SQL GROUP BY over the
same rows in the same run (the issue asks for at most 3x)."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import emit, fresh_postgres_url, setup_django, timed  # noqa: E402

DECISIONS = 5000
DEPARTMENTS = 60


def build():
    from django.utils import timezone

    from meetings.models import Decision, DecisionState, Meeting, MeetingType
    from portal.models import Department, User

    user = User.objects.create(username="bench", first_name="测")
    depts = Department.objects.bulk_create([Department(name=f"部门{i}", code=f"d{i}") for i in range(DEPARTMENTS)])
    mtype = MeetingType.objects.create(code="bench", name="周例会")
    start = timezone.now() - dt.timedelta(days=30)
    meetings = Meeting.objects.bulk_create([
        Meeting(type=mtype, subject=f"会{i}", organiser=user, start=start + dt.timedelta(days=i),
                end=start + dt.timedelta(days=i, hours=1), place="x") for i in range(20)])
    today = timezone.localdate()
    Decision.objects.bulk_create([
        Decision(meeting=meetings[i % 20], text=f"决议{i}", responsible_department=depts[i % DEPARTMENTS],
                 due_date=today + dt.timedelta(days=(i % 40) - 20),
                 state=DecisionState.DONE if i % 3 == 0 else DecisionState.OPEN,
                 closed_at=timezone.now() if i % 3 == 0 else None)
        for i in range(DECISIONS)], batch_size=1000)
    return today


def main():
    url = fresh_postgres_url("bench_meetings") if os.environ.get("BENCH_MEETINGS_PG", "1") == "1" else None
    setup_django(database_url=url)
    from django.db import connection

    from meetings import reports
    from meetings.models import Decision

    today = build()
    monday, sunday = reports.week_bounds(today)

    def raw_group_by():
        with connection.cursor() as cur:
            cur.execute(
                "SELECT d.responsible_department_id, dep.name,"
                " SUM(CASE WHEN d.due_date BETWEEN %s AND %s THEN 1 ELSE 0 END),"
                " SUM(CASE WHEN d.state = 'done' THEN 1 ELSE 0 END),"
                " SUM(CASE WHEN d.state = 'open' AND d.due_date < %s THEN 1 ELSE 0 END),"
                " SUM(CASE WHEN d.state = 'open' THEN 1 ELSE 0 END)"
                " FROM meetings_decision d JOIN portal_department dep ON dep.id = d.responsible_department_id"
                " GROUP BY d.responsible_department_id, dep.name ORDER BY dep.name",
                [monday, sunday, today],
            )
            cur.fetchall()
            cur.execute(
                "SELECT d.id, d.text, d.due_date, d.overdue_reason, d.responsible_department_id, m.subject"
                " FROM meetings_decision d JOIN meetings_meeting m ON m.id = d.meeting_id"
                " WHERE d.state = 'open' AND d.due_date < %s ORDER BY d.due_date",
                [today],
            )
            return cur.fetchall()

    def weekly():
        return reports.weekly_report(Decision.objects.all(), today)

    def ledger_page():
        """What the 督办台账 view reads: the filtered count (paginator) and one page of 50 rows."""
        qs = reports.filter_ledger(Decision.objects.all(), today=today).order_by("due_date", "pk")
        return qs.count(), list(qs[:50])

    def ledger_raw_page():
        with connection.cursor() as cur:
            cur.execute(
                "SELECT d.*, m.subject, dep.name FROM meetings_decision d"
                " JOIN meetings_meeting m ON m.id = d.meeting_id"
                " JOIN portal_department dep ON dep.id = d.responsible_department_id"
                " ORDER BY d.due_date, d.id LIMIT 50")
            return cur.fetchall()

    base = timed(raw_group_by, repeat=7)
    emit("meetings.weekly_report_5k_decisions_60_depts", timed(weekly, repeat=7) * 1000, "ms", base * 1000,
         limit_ratio=3.0, baseline_is="raw SQL GROUP BY + overdue rows", db=connection.vendor)
    ledger = timed(ledger_page, repeat=7)
    emit("meetings.ledger_page_5k_decisions", ledger * 1000, "ms", base * 1000,
         limit_ratio=3.0, baseline_is="raw SQL GROUP BY + overdue rows", db=connection.vendor)
    # For information: the ORM's cost of building 50 rows with their related objects.
    emit("meetings.ledger_page_vs_raw_page", ledger * 1000, "ms", timed(ledger_raw_page, repeat=7) * 1000,
         baseline_is="raw SQL page of 50 rows", db=connection.vendor)


if __name__ == "__main__":
    main()
