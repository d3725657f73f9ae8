"""django-q2 tasks of the matters app: thin and idempotent, each calls a service."""

from __future__ import annotations

from django.db import transaction


def sweep_reminders() -> dict:
    """Reminders, breaches, escalations, progress reminders and auto-confirmation that are due."""
    from .sweep import sweep

    return sweep()


def recompute_provisional_deadlines(years=None) -> int:
    """Recompute the deadlines of open matters computed on a year the calendar did not know."""
    from portal.workdays import WorkCalendar

    from .lifecycle import DEADLINE_FIELDS, refresh_deadlines
    from .models import Matter

    cal = WorkCalendar()
    count = 0
    for pk in Matter.objects.open().filter(deadlines_provisional=True).values_list("pk", flat=True):
        with transaction.atomic():
            matter = Matter.objects.select_for_update().filter(pk=pk, deadlines_provisional=True).first()
            if matter is None:
                continue
            refresh_deadlines(matter, cal)
            matter.save(update_fields=DEADLINE_FIELDS)
            count += 1
    return count
