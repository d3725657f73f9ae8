"""Writes for notices: publication versions, 已阅 receipts, views and reminders.

Views, admin actions, the page_published signal and the django-q2 tasks call these; each writes
its audit-log entry in the same transaction as the change.
"""

from .reading import (
    ACTION_CONFIRM,
    ACTION_EXPORT,
    ACTION_OVERDUE,
    ACTION_RECONFIRM,
    ACTION_REMIND,
    ACTION_REMIND_AUTO,
    NoticeError,
    ReminderTooSoon,
    announce_version,
    confirm_notice,
    record_publication,
    record_view,
)
from .reminders import (
    SweepResult,
    log_export,
    remind_unconfirmed,
    report_overdue,
    send_due_reminders,
    unconfirmed_users,
)

__all__ = [
    "ACTION_CONFIRM",
    "ACTION_EXPORT",
    "ACTION_OVERDUE",
    "ACTION_RECONFIRM",
    "ACTION_REMIND",
    "ACTION_REMIND_AUTO",
    "NoticeError",
    "ReminderTooSoon",
    "SweepResult",
    "announce_version",
    "confirm_notice",
    "log_export",
    "record_publication",
    "record_view",
    "remind_unconfirmed",
    "report_overdue",
    "send_due_reminders",
    "unconfirmed_users",
]
