"""Background-work plumbing shared by every app: a sweep lock, the worker heartbeat, health.

``exclusive(name)`` is how a sweep makes sure two runs never overlap, whichever worker or
machine they land on: a lease row (``notifications.TaskLock``) taken with one conditional
UPDATE and released at the end; a worker that dies holding it loses it after ``ttl`` (by
default django-q2's ``retry``, which is longer than any task may run).

    from portal.tasks import exclusive

    def remind_overdue():
        with exclusive("matters.remind_overdue") as acquired:
            if not acquired:
                return "skipped"
            ...
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from contextlib import contextmanager

from django.conf import settings
from django.utils import timezone

HEARTBEAT_STALE_AFTER = dt.timedelta(minutes=3)


@contextmanager
def exclusive(name: str, ttl_seconds: int | None = None):
    from portal.notifications.models import TaskLock

    ttl = dt.timedelta(seconds=ttl_seconds or settings.Q_CLUSTER.get("retry", 360))
    owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    now = timezone.now()
    TaskLock.objects.get_or_create(name=name, defaults={"locked_until": now - dt.timedelta(seconds=1)})
    acquired = bool(
        TaskLock.objects.filter(name=name, locked_until__lte=now).update(owner=owner, locked_until=now + ttl)
    )
    try:
        yield acquired
    finally:
        if acquired:
            TaskLock.objects.filter(name=name, owner=owner).update(locked_until=timezone.now())


def heartbeat() -> str:
    """Run every minute by the worker; the admin dashboard reads the row it writes."""
    from portal.notifications.models import WorkerHeartbeat

    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(
        cluster=settings.Q_CLUSTER.get("name", "default"),
        defaults={"beat_at": now, "host": socket.gethostname(), "pid": os.getpid()},
    )
    return now.isoformat()


def ping(marker: str = "") -> str:
    """A harmless task for checking that a worker runs what is queued (tests, `run now`)."""
    return f"pong {marker}".strip()


def worker_health(*, failures: int = 5) -> dict:
    """What the admin dashboard shows: heartbeat, running clusters, queue, recent failures."""
    from django_q.brokers import get_broker
    from django_q.models import Failure
    from django_q.status import Stat

    from portal.notifications.models import Notification, WorkerHeartbeat

    now = timezone.now()
    beat = WorkerHeartbeat.objects.order_by("-beat_at").first()
    broker_name = "Redis" if settings.Q_CLUSTER.get("redis") else "ORM"
    try:
        broker = get_broker()
        queued = broker.queue_size()
        clusters = [
            {
                "host": s.host,
                "cluster_id": str(s.cluster_id),
                "status": str(s.status),
                "workers": len(s.workers),
                "uptime": int(s.uptime()) if hasattr(s, "uptime") else None,
            }
            for s in Stat.get_all(broker=broker)
        ]
        broker_error = ""
    except Exception as exc:  # noqa: BLE001 - show the broker's trouble instead of failing the dashboard
        queued, clusters, broker_error = None, [], f"{type(exc).__name__}: {exc}"
    since = now - dt.timedelta(hours=24)
    return {
        "broker": broker_name,
        "broker_error": broker_error,
        "heartbeat": beat,
        "heartbeat_stale": beat is None or now - beat.beat_at > HEARTBEAT_STALE_AFTER,
        "clusters": clusters,
        "queued": queued,
        "failed_24h": Failure.objects.filter(stopped__gte=since).count(),
        "recent_failures": list(Failure.objects.order_by("-stopped")[:failures]),
        "failed_deliveries": Notification.objects.failed().count(),
    }
