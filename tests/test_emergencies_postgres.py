"""Emergency numbers and double taps under real concurrency (PostgreSQL): 30 reports at once
get 30 distinct gap-free numbers; one key sent ten times at once is one event; two sweeps at
once escalate a missed milestone once."""

from __future__ import annotations

import datetime as dt
import uuid

from django.test import Client
from django.urls import reverse

import pytest

from emergencies import services
from emergencies.models import Emergency, Milestone, PagedPerson
from emergencies.sweep import sweep
from emergencies.testing import T0, elevator_type, report, standard_roster
from portal.notifications.models import Notification
from tests.concurrency import run_in_threads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_thirty_concurrent_reports_get_unique_gap_free_numbers(org):
    standard_roster(org)
    et = elevator_type(org)

    def submit(i):
        return report(org, key=uuid.uuid4().hex, event_type=et, when=T0 + dt.timedelta(seconds=i))[0].number

    numbers = run_in_threads(30, submit)
    assert sorted(numbers) == [f"JJ-2026-{i:04d}" for i in range(1, 31)]
    assert sorted(Emergency.objects.values_list("number", flat=True)) == sorted(numbers)


def test_same_key_posted_ten_times_at_once_is_one_event(org):
    standard_roster(org)
    et = elevator_type(org)
    user = org.users["site_staff"]
    data = {"key": uuid.uuid4().hex, "event_type": et.pk, "site": org.depts["sunshine"].pk,
            "location": "3 号楼 2 号电梯", "grade": "general"}

    def submit(i):
        client = Client()
        client.force_login(user)
        response = client.post(reverse("emergencies:report"), data)
        assert response.status_code == 302
        return response["Location"]

    locations = run_in_threads(10, submit)
    assert Emergency.objects.count() == 1
    e = Emergency.objects.get()
    assert set(locations) == {e.get_absolute_url()}
    assert e.number.endswith("-0001")
    # Paged once: one inbox row per person.
    eng = org.users["eng_staff"]
    assert Notification.objects.filter(recipient=eng, kind=services.KIND_PAGE, channel="inbox").count() == 1
    assert PagedPerson.objects.filter(emergency=e, user=eng).count() == 1


def test_two_sweeps_at_once_escalate_a_missed_milestone_once(org):
    standard_roster(org)
    e, _ = report(org)
    results = run_in_threads(4, lambda i: sweep(T0 + dt.timedelta(minutes=31))["missed"])
    assert sum(results) == 1
    assert Milestone.objects.filter(emergency=e, missed_at__isnull=False).count() == 1
    head = org.users["eng_head"]
    assert Notification.objects.filter(recipient=head, kind=services.KIND_ESCALATED, channel="inbox").count() == 1


def test_two_people_acknowledging_at_once_one_wins(org):
    standard_roster(org)
    e, _ = report(org)
    people = [org.users["eng_staff"], org.users["sec_staff"]]

    def ack(i):
        try:
            services.acknowledge(Emergency.objects.get(pk=e.pk), people[i])
            return "ok"
        except services.InvalidInput:
            return "refused"

    assert sorted(run_in_threads(2, ack)) == ["ok", "refused"]
