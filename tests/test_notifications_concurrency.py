"""Exactly once under two concurrent senders and two concurrent workers (PostgreSQL)."""


from django.core import mail

import pytest

from portal.models import User
from portal.notifications.models import Channel, Notification, Status
from portal.notifications.services import deliver, notify
from tests.concurrency import run_in_threads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_concurrent_senders_reach_each_person_once(org):
    people = list(User.objects.filter(is_active=True, department__isnull=False))
    assert len(people) > 20

    def send(_):
        return notify(people, kind="matter.overdue", event_key="matter:42:overdue", title="事项已超期", url="/m/42/")

    for _round in range(3):
        results = run_in_threads(2, send)
        assert sum(results) in (len(people), 0)
    assert sorted(results) == [0, 0]
    rows = Notification.objects.filter(event_key="matter:42:overdue")
    assert rows.filter(channel=Channel.INBOX).count() == len(people)
    assert rows.filter(channel=Channel.EMAIL, status=Status.SENT).count() == len(people)
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == sorted(p.email for p in people)


def test_first_round_counts_everyone_exactly_once(org):
    people = list(User.objects.filter(is_active=True)[:10])
    results = run_in_threads(2, lambda _: notify(people, kind="x", event_key="k", title="t", channels=["inbox"]))
    assert sorted(results) == [0, len(people)]


def test_two_workers_given_the_same_row_send_it_once(org):
    user = User.objects.get(username="cs_staff")
    notify([user], kind="x", event_key="claim", title="t", channels=["email"])  # delivered on commit
    row = Notification.objects.get(event_key="claim")
    assert row.status == Status.SENT
    # Put it back as if a second task had been queued for it, and race two workers.
    Notification.objects.filter(pk=row.pk).update(status=Status.PENDING, attempts=0)
    mail.outbox.clear()
    outcomes = run_in_threads(4, lambda _: deliver(row.pk))
    assert sorted(outcomes) == ["sent", "skipped", "skipped", "skipped"]
    assert len(mail.outbox) == 1
