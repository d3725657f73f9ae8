"""The admin: group robots, delivery records with resend, schedules, failed tasks, worker health."""

from django.urls import reverse
from django.utils import timezone

import pytest
from django_q.models import Failure, Schedule

from portal.notifications.models import Channel, GroupRobot, Notification, Status
from portal.notifications.services import notify
from portal.schedules import ensure_schedules

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(org, login):
    return login(org.users["admin"])


def test_robot_form_refuses_metadata_address(org, admin_client):
    response = admin_client.post(
        reverse("notifications_robots:add"),
        {
            "department": org.depts["engineering"].pk,
            "name": "工程部工作群",
            "provider": "dingtalk",
            "webhook_url": "http://169.254.169.254/latest/",
            "secret": "SECx",
            "kinds": ["digest.daily"],
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert "元数据" in response.content.decode()
    assert not GroupRobot.objects.exists()


def test_robot_form_saves_a_loopback_receiver_in_tests(org, admin_client):
    response = admin_client.post(
        reverse("notifications_robots:add"),
        {
            "department": org.depts["engineering"].pk,
            "name": "工程部工作群",
            "provider": "wecom",
            "webhook_url": "http://127.0.0.1:9/hook",
            "kinds": ["digest.daily"],
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    robot = GroupRobot.objects.get()
    assert robot.kinds == ["digest.daily"]
    assert admin_client.get(reverse("notifications_robots:index")).status_code == 200
    # A test message to a closed port: shown as an error, recorded as a failed row.
    response = admin_client.post(reverse("notifications_robots:test", args=[robot.pk]), follow=True)
    assert "测试消息发送失败" in response.content.decode()


def test_failed_delivery_is_listed_and_resent(org, admin_client, django_capture_on_commit_callbacks):
    notify([org.users["cs_staff"]], kind="x", event_key="e", title="未送达的邮件", channels=["email"])
    row = Notification.objects.get()
    Notification.objects.filter(pk=row.pk).update(status=Status.FAILED, attempts=4, last_error="SMTP 535 认证失败")
    index = admin_client.get(reverse("notifications_deliveries:index") + "?status=failed")
    html = index.content.decode()
    assert "未送达的邮件" in html and "SMTP 535 认证失败" in html and "重发全部失败" in html
    assert admin_client.get(reverse("notifications_deliveries:inspect", args=[row.pk])).status_code == 200
    confirm = admin_client.get(reverse("notifications_deliveries:resend", args=[row.pk]))
    assert confirm.status_code == 200 and "确认重新发送" in confirm.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("notifications_deliveries:resend_failed"))
    row.refresh_from_db()
    assert row.status == Status.SENT and row.attempts == 1


def test_resend_needs_permission(org, login):
    notify([org.users["cs_staff"]], kind="x", event_key="e", title="t", channels=["email"])
    row = Notification.objects.get(channel=Channel.EMAIL)
    staff = org.users["coordinator"]  # is_staff, but no notification permissions
    response = login(staff).post(reverse("notifications_deliveries:resend", args=[row.pk]))
    assert response.status_code in (302, 403)
    row.refresh_from_db()
    assert row.attempts == 0


def test_schedule_timing_is_editable_and_can_run_now(org, admin_client):
    ensure_schedules()
    digest = Schedule.objects.get(name="通知：每日待办摘要")
    assert "通知：每日待办摘要" in admin_client.get(reverse("notifications_schedules:index")).content.decode()
    response = admin_client.post(
        reverse("notifications_schedules:edit", args=[digest.pk]),
        {"schedule_type": "C", "cron": "15 7 * * *", "minutes": "", "next_run": "2026-11-23 07:15:00", "repeats": -1},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    digest.refresh_from_db()
    assert digest.cron == "15 7 * * *" and digest.func == "portal.notifications.tasks.send_daily_digest"
    assert admin_client.get(reverse("notifications_schedules:add")).status_code in (302, 403)
    heartbeat = Schedule.objects.get(func="portal.tasks.heartbeat")
    assert admin_client.get(reverse("notifications_schedules:run_confirm", args=[heartbeat.pk])).status_code == 200
    admin_client.post(reverse("notifications_schedules:run_confirm", args=[heartbeat.pk]))
    from portal.notifications.models import WorkerHeartbeat

    assert WorkerHeartbeat.objects.exists()  # ran (synchronously in tests)


def test_failed_tasks_are_read_only_with_their_error(admin_client):
    now = timezone.now()
    task = Failure.objects.create(
        id="a" * 32, name="kilo-lima", func="matters.tasks.remind", started=now, stopped=now,
        success=False, result="ValueError: 截止时间无效", attempt_count=2,
    )
    assert "截止时间无效" in admin_client.get(reverse("notifications_failed_tasks:index")).content.decode()
    assert "截止时间无效" in admin_client.get(
        reverse("notifications_failed_tasks:inspect", args=[task.pk])
    ).content.decode()
    assert admin_client.get(reverse("notifications_failed_tasks:edit", args=[task.pk])).status_code in (302, 403)


def test_dashboard_shows_worker_health(admin_client):
    html = admin_client.get(reverse("wagtailadmin_home")).content.decode()
    assert "后台任务进程" in html and "还没有收到后台任务进程的心跳" in html
