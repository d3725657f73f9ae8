"""django-q2 tasks of the emergencies app: thin and idempotent."""

from __future__ import annotations


def sweep_milestones() -> dict:
    """Escalate every clock milestone that has passed, once (run every minute)."""
    from .sweep import sweep

    return sweep()


def send_phone_message(pk: int) -> str:
    """Send one queued SMS or voice call (idempotent: a row already sent is left alone)."""
    from .phone import send

    return send(pk)
