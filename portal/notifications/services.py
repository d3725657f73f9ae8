"""Writing and delivering notifications. Feature apps call ``notify``; the worker delivers.

``notify`` records, in one transaction, one row per recipient and channel (inbox, email) and one
per department group robot for the event; the unique constraints on the event key make a second
call, or a concurrent one, add nothing. Inbox rows are delivered by being written; email and
robot rows are handed to django-q2 tasks after commit. Each row is claimed with a conditional
UPDATE before it is sent, so two workers given the same row send it once; a failure is retried
with backoff by the retry sweep and finally marked failed with its error, for an administrator
to resend.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone

from .kinds import get_kind, registered_kinds
from .models import Channel, GroupRobot, Notification, NotificationPreference, Status

logger = logging.getLogger(__name__)

EXTERNAL_CHANNELS = (Channel.EMAIL, Channel.ROBOT)
CHUNK = 10  # rows per delivery task: 10 slow webhooks (10 s each) stay well inside the task timeout
SAFETY_NET = dt.timedelta(minutes=2)  # a pending row the retry sweep picks up if its task was lost
QUEUED_GRACE = dt.timedelta(minutes=10)  # ... and after being queued by the sweep


def retry_delays() -> list[int]:
    """Seconds to wait before the 2nd, 3rd, ... attempt; after the last one a row is failed."""
    return list(getattr(settings, "PORTAL_NOTIFY_RETRY_DELAYS", [60, 300, 1800]))


def channels_for(pref: NotificationPreference | None, mandatory: bool) -> tuple[bool, bool]:
    """(inbox, email) for a person and a kind; mandatory kinds ignore the person's choice."""
    if mandatory or pref is None:
        return True, True
    return pref.inbox, pref.email


def _lock_event(event_key: str) -> None:
    # Serialises concurrent senders of the same event on PostgreSQL, so the "what exists"
    # check below sees the other sender's committed rows and the count returned is exact.
    # The unique constraints remain the guarantee; SQLite serialises writers anyway.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"notify:{event_key}"])


def _robots_for(kind: str, department_ids: set[int]) -> list[GroupRobot]:
    if not department_ids:
        return []
    robots = GroupRobot.objects.filter(is_active=True, department_id__in=department_ids)
    return [r for r in robots if kind in (r.kinds or [])]


def notify(
    recipients: Iterable,
    *,
    kind: str,
    event_key: str,
    title: str,
    body: str = "",
    url: str = "",
    departments: Iterable | None = None,
    data: dict | None = None,
    channels: Iterable[str] | None = None,
) -> int:
    """Notify people (and their departments' group robots) of an event, once per channel.

    ``event_key`` names the event (e.g. ``notice:12:remind:2026-11-21T10``): a person gets each
    event once per channel, whoever calls and however often. Channels follow each person's
    preferences for ``kind`` (mandatory kinds ignore them); a person without an email address
    gets the inbox only. Group robots of the recipients' departments, and of ``departments``,
    post the event when they are set up for ``kind``. ``channels`` (e.g. ``["inbox"]``) limits
    the channels used for this call. Returns how many people were newly notified.
    """
    allowed = set(channels) if channels is not None else {Channel.INBOX, Channel.EMAIL, Channel.ROBOT}
    users = {u.pk: u for u in recipients if u is not None and u.is_active}
    dept_ids = {getattr(d, "pk", d) for d in (departments or [])}
    dept_ids |= {u.department_id for u in users.values() if u.department_id}
    if not users and not dept_ids:
        return 0
    mandatory = get_kind(kind).mandatory
    prefs = (
        {}
        if mandatory
        else {p.user_id: p for p in NotificationPreference.objects.filter(user_id__in=list(users), kind=kind)}
    )
    robots = _robots_for(kind, dept_ids) if Channel.ROBOT in allowed else []
    now = timezone.now()
    common = {
        "kind": kind,
        "event_key": event_key,
        "title": title[:200],
        "body": body,
        "url": url[:500],
        "data": data or {},
        "created_at": now,
    }
    with transaction.atomic():
        _lock_event(event_key)
        existing = set(
            Notification.objects.filter(event_key=event_key, recipient_id__in=list(users)).values_list(
                "recipient_id", "channel"
            )
        )
        existing_robots = (
            set(Notification.objects.filter(event_key=event_key, robot__in=robots).values_list("robot_id", flat=True))
            if robots
            else set()
        )
        rows = []
        for pk, user in users.items():
            inbox, email = channels_for(prefs.get(pk), mandatory)
            inbox, email = inbox and Channel.INBOX in allowed, email and Channel.EMAIL in allowed
            if inbox and (pk, Channel.INBOX) not in existing:
                rows.append(
                    Notification(recipient_id=pk, channel=Channel.INBOX, status=Status.SENT, sent_at=now, **common)
                )
            if email and user.email and (pk, Channel.EMAIL) not in existing:
                rows.append(
                    Notification(
                        recipient_id=pk, channel=Channel.EMAIL, next_attempt_at=now + SAFETY_NET, **common
                    )
                )
        for robot in robots:
            if robot.pk not in existing_robots:
                rows.append(
                    Notification(robot=robot, channel=Channel.ROBOT, next_attempt_at=now + SAFETY_NET, **common)
                )
        Notification.objects.bulk_create(rows, ignore_conflicts=True)
        if any(r.channel in EXTERNAL_CHANNELS for r in rows):
            transaction.on_commit(lambda: enqueue_pending(event_key), robust=True)
    return len({r.recipient_id for r in rows if r.recipient_id})


def enqueue_pending(event_key: str | None = None, ids: Iterable[int] | None = None) -> int:
    """Hand pending email/robot rows to the worker, a task per channel and chunk."""
    from django_q.tasks import async_task

    qs = Notification.objects.filter(channel__in=EXTERNAL_CHANNELS, status=Status.PENDING)
    if event_key is not None:
        qs = qs.filter(event_key=event_key)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    by_channel: dict[str, list[int]] = {}
    for pk, channel in qs.values_list("pk", "channel").order_by("pk"):
        by_channel.setdefault(channel, []).append(pk)
    count = 0
    for channel, pks in by_channel.items():
        for start in range(0, len(pks), CHUNK):
            chunk = pks[start : start + CHUNK]
            async_task(
                "portal.notifications.tasks.deliver_notifications",
                chunk,
                task_name=f"deliver {channel} {chunk[0]}..{chunk[-1]}",
                group="notifications",
            )
            count += len(chunk)
    return count


def _claim(pk: int, now) -> bool:
    # Only a pending row is claimable: the retry sweep turns due RETRYING rows back into PENDING
    # when it queues them, so a stray duplicate task cannot jump a row's backoff.
    return bool(
        Notification.objects.filter(pk=pk, status=Status.PENDING).update(
            status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
    )


def absolute_url(url: str) -> str:
    if url.startswith("/"):
        return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + url
    return url


def send_email(note: Notification) -> None:
    user = note.recipient
    if not user.email:
        raise PermanentFailure("收件人没有邮箱地址")
    context = {
        "note": note,
        "user": user,
        "link": absolute_url(note.url),
        "sections": (note.data or {}).get("sections") or [],
        "site_name": settings.WAGTAIL_SITE_NAME,
        "inbox_url": absolute_url("/inbox/"),
        "preferences_url": absolute_url("/inbox/preferences/"),
    }
    for section in context["sections"]:
        for item in section.get("items", []):
            item["link"] = absolute_url(item.get("url") or "")
    message = EmailMultiAlternatives(
        subject=f"[{settings.WAGTAIL_SITE_NAME}] {note.title}",
        body=render_to_string("notifications/email/notification.txt", context),
        to=[user.email],
        headers={"X-Portal-Event": note.event_key[:200]},
    )
    message.attach_alternative(render_to_string("notifications/email/notification.html", context), "text/html")
    message.send()


def send_robot(note: Notification) -> None:
    from . import webhooks

    robot = note.robot
    if not robot.is_active:
        raise PermanentFailure("群机器人已停用")
    payload = webhooks.build_payload(robot, title=note.title, body=note.body, url=absolute_url(note.url))
    webhooks.post(robot, payload)


class PermanentFailure(Exception):
    """A failure that retrying cannot fix (no address, robot switched off)."""


def deliver(pk: int) -> str:
    """Send one email/robot row if it is due and nobody else is sending it. Idempotent."""
    now = timezone.now()
    if not _claim(pk, now):
        return "skipped"
    note = Notification.objects.select_related("recipient", "robot").get(pk=pk)
    try:
        if note.channel == Channel.EMAIL:
            send_email(note)
        elif note.channel == Channel.ROBOT:
            send_robot(note)
    except Exception as exc:  # noqa: BLE001 - every failure is recorded on the row
        return "failed" if _record_failure(note, exc) else "retrying"
    Notification.objects.filter(pk=pk, status=Status.SENDING).update(
        status=Status.SENT, sent_at=timezone.now(), last_error="", next_attempt_at=None
    )
    return "sent"


def _record_failure(note: Notification, exc: Exception) -> bool:
    """Schedule the next attempt, or mark the row failed; True when it is final."""
    delays = retry_delays()
    error = f"{type(exc).__name__}: {exc}"[:2000] if not isinstance(exc, PermanentFailure) else str(exc)
    final = isinstance(exc, PermanentFailure) or note.attempts > len(delays)
    logger.warning("Notification %s (%s) attempt %s failed: %s", note.pk, note.channel, note.attempts, error)
    Notification.objects.filter(pk=note.pk, status=Status.SENDING).update(
        status=Status.FAILED if final else Status.RETRYING,
        last_error=error,
        next_attempt_at=None if final else timezone.now() + dt.timedelta(seconds=delays[note.attempts - 1]),
    )
    return final


def deliver_many(ids: Iterable[int]) -> dict[str, int]:
    """Deliver rows one by one; one failing row never stops the others."""
    outcome: dict[str, int] = {}
    for pk in ids:
        try:
            result = deliver(pk)
        except Notification.DoesNotExist:
            result = "gone"
        outcome[result] = outcome.get(result, 0) + 1
    return outcome


def retry_due(now=None) -> int:
    """The retry sweep: revive rows a dead worker left "sending", enqueue every due row."""
    now = now or timezone.now()
    stuck_before = now - dt.timedelta(seconds=settings.Q_CLUSTER.get("retry", 360))
    Notification.objects.filter(status=Status.SENDING, claimed_at__lt=stuck_before).update(
        status=Status.RETRYING, next_attempt_at=now, last_error="发送中断（后台任务进程停止），将重试"
    )
    due = list(
        Notification.objects.filter(channel__in=EXTERNAL_CHANNELS)
        .due_for_retry(now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:2000]
    )
    if not due:
        return 0
    # Queued again: pending, with the safety net pushed out so a long queue is not re-queued
    # every minute (a lost task is picked up again after QUEUED_GRACE).
    with transaction.atomic():
        Notification.objects.filter(pk__in=due).due_for_retry(now).update(
            status=Status.PENDING, next_attempt_at=now + QUEUED_GRACE
        )
        transaction.on_commit(lambda: enqueue_pending(ids=due), robust=True)
    return len(due)


@transaction.atomic
def resend(notifications: Iterable[Notification], *, user=None) -> int:
    """Put failed (or stuck) rows back in the queue with a fresh set of attempts."""
    from wagtail.log_actions import log

    now = timezone.now()
    pks = [n.pk for n in notifications if n.channel in EXTERNAL_CHANNELS and n.status != Status.SENT]
    count = Notification.objects.filter(pk__in=pks).exclude(status__in=[Status.SENT, Status.SENDING]).update(
        status=Status.PENDING, attempts=0, last_error="", next_attempt_at=now + SAFETY_NET
    )
    for note in Notification.objects.filter(pk__in=pks):
        log(instance=note, action="portal.notifications.resend", user=user)
    transaction.on_commit(lambda: enqueue_pending(ids=pks), robust=True)
    return count


def mark_read(user, notification_ids: Iterable[int] | None = None) -> int:
    qs = Notification.objects.for_user(user).unread()
    if notification_ids is not None:
        qs = qs.filter(pk__in=list(notification_ids))
    return qs.update(read_at=timezone.now())


def preference_rows(user) -> list[dict]:
    """Every registered kind with the person's current choice, for the preferences page."""
    prefs = {p.kind: p for p in NotificationPreference.objects.filter(user=user)}
    rows = []
    for kind in registered_kinds().values():
        inbox, email = channels_for(prefs.get(kind.code), kind.mandatory)
        rows.append({"kind": kind, "inbox": inbox, "email": email})
    return rows


@transaction.atomic
def set_preferences(user, choices: dict[str, tuple[bool, bool]]) -> int:
    """Save (inbox, email) per kind; mandatory kinds cannot be turned off. Returns rows changed."""
    from wagtail.log_actions import log

    kinds = registered_kinds()
    changed = 0
    for code, (inbox, email) in choices.items():
        kind = kinds.get(code)
        if kind is None or kind.mandatory:
            continue
        pref, created = NotificationPreference.objects.get_or_create(
            user=user, kind=code, defaults={"inbox": inbox, "email": email}
        )
        if created and inbox and email:
            pref.delete()  # the default; keep no row
            continue
        if not created and (pref.inbox, pref.email) != (inbox, email):
            if inbox and email:
                pref.delete()
            else:
                pref.inbox, pref.email = inbox, email
                pref.save(update_fields=["inbox", "email", "updated_at"])
            changed += 1
        elif created:
            changed += 1
    if changed:
        log(instance=user, action="portal.notifications.preferences", user=user, data={"choices": choices})
    return changed
