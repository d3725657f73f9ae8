"""Notifications: create and deliver 10,000 in-app notifications vs. a bare bulk_create of the rows.

Two figures, each against a baseline measured in the same run:
- ``notifications.notify_10000_people``: one ``notify()`` call to 10,000 people (preferences
  lookup, robot lookup, dedupe check, insert, all in one transaction) vs ``bulk_create`` of the
  same 10,000 inbox rows;
- ``notifications.notify_1000_calls``: 1,000 separate one-person ``notify()`` calls (how feature
  apps often call it) vs ``bulk_create`` of those 1,000 rows.
Runs on SQLite by default; ``BENCH_PG=1`` uses a scratch PostgreSQL database instead.
"""

import itertools
import os

from harness import emit, fresh_postgres_url, setup_django, timed


def main():
    url = fresh_postgres_url("bench_notifications") if os.environ.get("BENCH_PG") else None
    setup_django(database_url=url)
    from django.db import transaction
    from django.utils import timezone

    from portal.models import User
    from portal.notifications.models import Channel, Notification, Status
    from portal.notifications.services import notify

    User.objects.bulk_create(
        User(username=f"bench{i:05d}", name=f"员工{i}", employee_no=f"B{i:05d}") for i in range(10_000)
    )
    people = list(User.objects.filter(username__startswith="bench"))
    counter = itertools.count()

    def with_notify():
        n = next(counter)
        created = notify(people, kind="bench.kind", event_key=f"bench:{n}", title="请确认通告", url="/notices/1/")
        assert created == len(people)

    def bare_bulk_create(rows_for=people):
        n = next(counter)
        now = timezone.now()
        with transaction.atomic():
            Notification.objects.bulk_create(
                Notification(
                    recipient_id=u.pk, channel=Channel.INBOX, kind="bench.kind", event_key=f"bulk:{n}",
                    title="请确认通告", url="/notices/1/", status=Status.SENT, created_at=now, sent_at=now,
                )
                for u in rows_for
            )

    value = timed(with_notify, repeat=3)
    baseline = timed(bare_bulk_create, repeat=3)
    emit("notifications.notify_10000_people", value * 1000, "ms", baseline * 1000,
         per_second=round(len(people) / value))

    few = people[:1000]

    def one_by_one():
        n = next(counter)
        for u in few:
            notify([u], kind="bench.kind", event_key=f"single:{n}", title="请确认通告", url="/notices/1/")

    value = timed(one_by_one, repeat=3)
    baseline = timed(lambda: bare_bulk_create(few), repeat=3)
    emit("notifications.notify_1000_calls", value * 1000, "ms", baseline * 1000, per_second=round(len(few) / value))


if __name__ == "__main__":
    main()
