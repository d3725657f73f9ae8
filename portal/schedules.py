"""Idempotent django-q2 schedules.

Feature apps declare their periodic jobs with the ``portal_schedules`` Wagtail hook: a function
returning a list of ``ScheduleSpec``. ``manage.py setup_schedules`` (run by ``make setup`` and
on deploy) creates or updates one Schedule per name, so restarts never duplicate them.
Administrators may change a schedule's timing in the admin; ``setup_schedules`` keeps their
timing and only fixes the function it calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection, transaction

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
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Two machines deploying at once must not both create the same schedule.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended('portal.setup_schedules', 0))")
        for spec in declared_schedules():
            c, u = _ensure(Schedule, spec)
            created += c
            updated += u
    return created, updated


def _ensure(schedule_model, spec: ScheduleSpec) -> tuple[int, int]:
    existing = schedule_model.objects.filter(name=spec.name).order_by("pk")
    row = existing.first()
    if row is None:
        schedule_model.objects.create(
            name=spec.name,
            func=spec.func,
            schedule_type=spec.schedule_type,
            minutes=spec.minutes,
            cron=spec.cron,
            # django-q2 evaluates this text as dict(<kwargs>): "x=1, y='a'".
            kwargs=", ".join(f"{k}={v!r}" for k, v in spec.kwargs.items()) or None,
            repeats=-1,
        )
        return 1, 0
    # Duplicates left by an older start-up hook: keep the first.
    existing.exclude(pk=row.pk).delete()
    if row.func != spec.func:
        row.func = spec.func
        row.save(update_fields=["func"])
        return 0, 1
    return 0, 0
