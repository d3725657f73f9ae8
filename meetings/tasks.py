"""Scheduled jobs (django-q): thin wrappers around the services, all idempotent."""

from __future__ import annotations


def ensure_standing_meetings():
    from .services import ensure_standing_meetings as run

    return run()


def remind_minutes():
    from .services import remind_minutes as run

    return run()


def escalate_overdue_decisions():
    from .services import escalate_overdue_decisions as run

    return run()


def send_weekly_report():
    from .weekly import send_weekly_report as run

    return run()


def send_weekly_packs():
    from .pack import send_weekly_packs as run

    return run()
