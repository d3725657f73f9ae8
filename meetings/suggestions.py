"""What the agenda proposes by itself: open 重要 matters of the participating departments,
their overdue matters, and overdue decisions of earlier meetings of the same series."""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from matters.models import Matter

from .models import Decision


def agenda_suggestions(meeting, limit: int = 20) -> list[dict]:
    dept_ids = set(meeting.departments.values_list("pk", flat=True)) | set(
        meeting.participants.exclude(department__isnull=True).values_list("department_id", flat=True))
    now = timezone.now()
    taken = set(meeting.agenda.exclude(matter__isnull=True).values_list("matter_id", flat=True))
    matters = (
        Matter.objects.open().filter(lead_department_id__in=dept_ids)
        .filter(Q(grade__in=["important", "major"]) | Q(current_due_at__lt=now))
        .exclude(pk__in=taken).exclude(meeting_decision__meeting=meeting).select_related("lead_department").order_by("current_due_at")[:limit]
    )
    rows = [{"kind": "overdue" if m.current_due_at and m.current_due_at < now else "important", "matter": m,
             "text": f"{m.reference} {m.title}", "department": m.lead_department} for m in matters]
    late = Decision.objects.open().filter(meeting__type=meeting.type, meeting__start__lt=meeting.start,
                                          due_date__lt=timezone.localdate()).select_related("responsible_department")
    rows += [{"kind": "decision", "decision": d, "text": d.text, "department": d.responsible_department}
             for d in late[:limit]]
    return rows
