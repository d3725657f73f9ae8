"""Idempotent django-q2 schedules.

Feature apps declare their periodic jobs with the ``portal_schedules`` Wagtail hook: a function
returning a list of ``ScheduleSpec``. ``manage.py setup_schedules`` (run by ``make setup`` and
on deploy) creates or updates one Schedule per name, so restarts never duplicate them.
Administrators may change a schedule's timing in the admin; ``setup_schedules`` keeps their
timing and only fixes the function it calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wagtail import hooks


@dataclass
class ScheduleSpec:
    name: str
    func: str
    schedule_type: str = "I"  # django_q Schedule.MINUTES
    minutes: int | None = 5
    cron: str | None = None
    kwargs: dict = field(default_factory=dict)


def declared_schedules() -> list[ScheduleSpec]:
    specs: list[ScheduleSpec] = []
    for fn in hooks.get_hooks("portal_schedules"):
        specs.extend(fn())
    return specs


def ensure_schedules() -> tuple[int, int]:
    """Create missing schedules and repoint existing ones; returns (created, updated)."""
    from django_q.models import Schedule

    created = updated = 0
    for spec in declared_schedules():
        existing = Schedule.objects.filter(name=spec.name).order_by("pk")
        row = existing.first()
        if row is None:
            Schedule.objects.create(
                name=spec.name,
                func=spec.func,
                schedule_type=spec.schedule_type,
                minutes=spec.minutes,
                cron=spec.cron,
                kwargs=spec.kwargs,
                repeats=-1,
            )
            created += 1
            continue
        # Duplicates left by an older start-up hook: keep the first.
        existing.exclude(pk=row.pk).delete()
        if row.func != spec.func:
            row.func = spec.func
            row.save(update_fields=["func"])
            updated += 1
    return created, updated
