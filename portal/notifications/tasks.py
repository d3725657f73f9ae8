"""django-q2 tasks of the notifications app: thin, idempotent, called with primary keys."""

from portal.tasks import exclusive

from . import services


def deliver_notifications(ids: list[int]) -> dict:
    """Deliver email/robot rows; rows already sent or claimed by another worker are skipped."""
    return services.deliver_many(ids)


def retry_due_notifications() -> int | str:
    """Every minute: revive stuck rows and enqueue due retries. Never two at once."""
    with exclusive("notifications.retry_due") as acquired:
        if not acquired:
            return "skipped: another run holds the lock"
        return services.retry_due()


def send_daily_digest(force: bool = False) -> dict | str:
    from .digest import send_daily_digest as run

    with exclusive("notifications.daily_digest") as acquired:
        if not acquired:
            return "skipped: another run holds the lock"
        return run(force=force)
