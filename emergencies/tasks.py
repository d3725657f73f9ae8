"""django-q2 tasks of the emergencies app: thin and idempotent."""

from __future__ import annotations


def sweep_milestones() -> dict:
    """Escalate every clock milestone that has passed, once (run every minute)."""
    from .sweep import sweep

    return sweep()
