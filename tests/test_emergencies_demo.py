"""Demo data and the figures: rosters for this week, one event under way (two milestones met,
one overdue), one closed with its review; monthly figures by type and site."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

import pytest

from emergencies.demo import seed_emergencies
from emergencies.ledger import percentile
from emergencies.models import DutyShift, Emergency, Rectification, Status


def _counts():
    return (Emergency.objects.count(), DutyShift.objects.count(), Rectification.objects.count())


def test_seed_demo_is_complete_and_idempotent(org, calendar_2026, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        seed_emergencies(lambda *a: None)
    first = _counts()
    seed_emergencies(lambda *a: None)
    assert _counts() == first
    now = timezone.now()
    assert DutyShift.objects.on_duty(now).filter(department__code="engineering").exists()
    under_way = Emergency.objects.get(idempotency_key="demo-under-way")
    assert under_way.status == Status.HANDLING
    met = under_way.milestones.filter(met_at__isnull=False).values_list("kind", flat=True)
    assert sorted(met) == ["respond", "written"]
    assert list(under_way.milestones.filter(missed_at__isnull=False).values_list("kind", flat=True)) == ["plan"]
    closed = Emergency.objects.get(idempotency_key="demo-closed")
    assert closed.status == Status.REVIEWED
    assert Rectification.objects.filter(review__emergency=closed, matter__isnull=False).count() == 2


def test_figures_show_counts_and_percentiles(client, org, calendar_2026):
    seed_emergencies(lambda *a: None)
    client.force_login(org.users["gm"])
    months = {timezone.localtime(e.reported_at).strftime("%Y-%m") for e in Emergency.objects.all()}
    html = "".join(client.get(reverse("emergencies:figures") + f"?month={m}").content.decode() for m in months)
    assert "电梯困人" in html and "漏水" in html and "阳光花园管理处" in html
    bad = client.get(reverse("emergencies:figures") + "?month=2026-13")
    assert bad.status_code == 200 and "月份格式不正确" in bad.content.decode()


def test_percentile_is_nearest_rank():
    assert percentile([], 90) is None
    assert percentile([5.0], 90) == 5.0
    assert percentile([float(i) for i in range(1, 11)], 90) == 9.0
    assert percentile([float(i) for i in range(1, 11)], 50) == 5.0


@pytest.mark.parametrize("query", ["?type=abc", "?site=-1", "?status=nope", "?month=x"])
def test_ledger_ignores_bad_filters_without_error(client, org, query):
    client.force_login(org.users["gm"])
    assert client.get(reverse("emergencies:ledger") + query).status_code == 200


def test_demo_under_way_event_counts_down(client, org, calendar_2026):
    seed_emergencies(lambda *a: None)
    e = Emergency.objects.get(idempotency_key="demo-under-way")
    client.force_login(org.users["eng_head"])
    html = client.get(e.get_absolute_url()).content.decode()
    assert "data-due=" in html  # pending milestones carry a live countdown
    assert "已超时，已上报" in html
    assert e.reported_at > timezone.now() - dt.timedelta(hours=3)
