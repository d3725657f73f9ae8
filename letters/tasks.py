"""django-q2 tasks: thin wrappers taking primary keys; each one is safe to run twice."""

from __future__ import annotations


def archive_letter(letter_id: int) -> str:
    from .archive import archive_letter as run

    archive = run(letter_id)
    return archive.sha256


def remind_unreceived() -> int:
    """Hourly: 催签收 for unsigned receipts, and 复函 reminders past the requested reply date."""
    from .services import remind_overdue_replies
    from .services import remind_unreceived as run

    return run() + remind_overdue_replies()
