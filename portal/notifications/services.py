"""Writing notifications. Feature apps call ``notify``; delivery to each channel is the worker's."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from .models import Channel, Notification, Status


def notify(recipients: Iterable, *, kind: str, event_key: str, title: str, body: str = "", url: str = "") -> int:
    """Record one in-app notification per recipient for an event; repeated calls add nothing.

    ``event_key`` names the event (e.g. ``notice:12:remind:2026-11-21T10``): a person gets each
    event once per channel. Returns how many new notifications were created.
    """
    users = {u.pk: u for u in recipients if u is not None and u.is_active}
    if not users:
        return 0
    now = timezone.now()
    with transaction.atomic():
        existing = set(
            Notification.objects.filter(
                recipient_id__in=users, channel=Channel.INBOX, event_key=event_key
            ).values_list("recipient_id", flat=True)
        )
        rows = [
            Notification(
                recipient_id=pk,
                channel=Channel.INBOX,
                kind=kind,
                event_key=event_key,
                title=title[:200],
                body=body,
                url=url,
                status=Status.SENT,
                created_at=now,
                sent_at=now,
            )
            for pk in users
            if pk not in existing
        ]
        Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def mark_read(user, notification_ids: Iterable[int] | None = None) -> int:
    qs = Notification.objects.for_user(user).unread()
    if notification_ids is not None:
        qs = qs.filter(pk__in=list(notification_ids))
    return qs.update(read_at=timezone.now())
