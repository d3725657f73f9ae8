"""Schedules created idempotently, sweep locks, heartbeat and the worker's health."""

import datetime as dt

from django.core.management import call_command
from django.utils import timezone

import pytest
from django_q.models import Failure, Schedule

from portal.notifications.models import TaskLock, WorkerHeartbeat
from portal.notifications.tasks import retry_due_notifications, send_daily_digest
from portal.schedules import declared_schedules, ensure_schedules
from portal.tasks import exclusive, heartbeat, worker_health

pytestmark = pytest.mark.django_db


def test_setup_schedules_twice_creates_each_once(capsys):
    call_command("setup_schedules")
    first = sorted(Schedule.objects.values_list("name", flat=True))
    call_command("setup_schedules")
    assert sorted(Schedule.objects.values_list("name", flat=True)) == first
    assert "新增 0 个" in capsys.readouterr().out
    names = {s.name for s in declared_schedules()}
    assert {"平台：后台任务心跳", "通知：重试到期的发送", "通知：每日待办摘要"} <= names
    assert len(first) == len(names)


def test_setup_keeps_an_administrators_timing_and_removes_duplicates():
    ensure_schedules()
    digest = Schedule.objects.get(name="通知：每日待办摘要")
    assert digest.schedule_type == Schedule.CRON and digest.cron == "0 8 * * *"
    digest.cron = "30 7 * * *"
    digest.save()
    Schedule.objects.create(name=digest.name, func="old.module.func", schedule_type=Schedule.CRON, cron="0 9 * * *")
    assert ensure_schedules() == (0, 0)
    digest = Schedule.objects.get(name="通知：每日待办摘要")
    assert digest.cron == "30 7 * * *"


def test_digest_time_comes_from_settings(settings):
    settings.PORTAL_DIGEST_TIME = "07:45"
    spec = next(s for s in declared_schedules() if s.name == "通知：每日待办摘要")
    assert spec.cron == "45 7 * * *"


def test_exclusive_lock_refuses_overlap_and_expires():
    with exclusive("sweep") as first, exclusive("sweep") as second:
        assert first and not second
    with exclusive("sweep") as again:
        assert again
    # A worker that died holding the lease loses it when the lease runs out.
    TaskLock.objects.filter(name="sweep").update(owner="dead", locked_until=timezone.now() - dt.timedelta(seconds=1))
    with exclusive("sweep") as taken:
        assert taken


def test_sweeps_skip_while_another_run_holds_the_lock():
    with exclusive("notifications.retry_due"):
        assert retry_due_notifications().startswith("skipped")
    with exclusive("notifications.daily_digest"):
        assert send_daily_digest().startswith("skipped")
    assert retry_due_notifications() == 0


def test_heartbeat_and_health():
    health = worker_health()
    assert health["heartbeat"] is None and health["heartbeat_stale"]
    heartbeat()
    heartbeat()
    assert WorkerHeartbeat.objects.count() == 1
    health = worker_health()
    assert not health["heartbeat_stale"] and health["broker"] == "ORM"
    assert health["queued"] == 0


def _failure():
    now = timezone.now()
    return Failure.objects.create(
        id="f" * 32, name="alpha-bravo", func="matters.tasks.remind", started=now, stopped=now,
        success=False, result="Traceback ...\nValueError: 截止时间无效", attempt_count=1,
    )


def test_health_lists_failed_tasks_with_errors():
    _failure()
    health = worker_health()
    assert health["failed_24h"] == 1
    assert "截止时间无效" in health["recent_failures"][0].result


def test_q_cluster_settings_guard_against_double_runs(settings):
    q = settings.Q_CLUSTER
    assert q["retry"] > q["timeout"]
    assert q["catch_up"] is False
    assert q["sync"] is True  # test settings
    assert settings.TASKS["default"]["BACKEND"].endswith("ImmediateBackend")
