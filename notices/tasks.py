"""django-q2 tasks: thin and idempotent, they take ids and call a service."""

from __future__ import annotations

from dataclasses import asdict


def announce_version(notice_id: int, version: int) -> int:
    from .services import announce_version as announce

    return announce(notice_id, version)


def send_due_reminders() -> dict:
    from .services import send_due_reminders as sweep

    return asdict(sweep())


def publish_scheduled_pages() -> None:
    """Wagtail's go-live and expiry times take effect only when this runs."""
    from django.core.management import call_command

    call_command("publish_scheduled", verbosity=0)
