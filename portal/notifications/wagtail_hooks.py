"""Notifications in the portal: inbox in the navigation, platform kinds, schedules, digest section,
the admin's 后台任务与通知 menu, the worker-health dashboard panel and audit-log actions."""

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wagtail import hooks
from wagtail.admin.ui.components import Component
from wagtail.permissions import register_permission_policy

from django_q.models import Failure, Schedule

from portal.nav import NavItem
from portal.schedules import ScheduleSpec

from .admin_views import BackgroundGroup, OperationsPolicy
from .kinds import DIGEST_DAILY, PLATFORM_KINDS
from .models import Notification

register_permission_policy(Notification, OperationsPolicy(Notification, allowed=("view",)))
register_permission_policy(Schedule, OperationsPolicy(Schedule, allowed=("view", "change")))
register_permission_policy(Failure, OperationsPolicy(Failure, allowed=("view",)))


@hooks.register("portal_nav_items")
def inbox_nav_item(request):
    unread = Notification.objects.for_user(request.user).unread().count()
    return NavItem(_("站内信"), reverse("notifications:inbox"), order=90, badge=unread or None)


@hooks.register("portal_notification_kinds")
def platform_kinds():
    return PLATFORM_KINDS


def _digest_cron() -> str:
    hour, minute = (getattr(settings, "PORTAL_DIGEST_TIME", "08:00") or "08:00").split(":")
    return f"{int(minute)} {int(hour)} * * *"


@hooks.register("portal_schedules")
def platform_schedules():
    return [
        ScheduleSpec(name="平台：后台任务心跳", func="portal.tasks.heartbeat", minutes=1),
        ScheduleSpec(
            name="通知：重试到期的发送", func="portal.notifications.tasks.retry_due_notifications", minutes=1
        ),
        ScheduleSpec(
            name="通知：每日待办摘要",
            func="portal.notifications.tasks.send_daily_digest",
            schedule_type="C",
            minutes=None,
            cron=_digest_cron(),
        ),
    ]


@hooks.register("portal_digest_sections")
def unread_inbox_section(user):
    """Unread inbox messages, so nothing waiting is forgotten."""
    unread = Notification.objects.for_user(user).unread().exclude(kind=DIGEST_DAILY)
    count = unread.count()
    if not count:
        return None
    items = [
        {"text": note.title, "url": reverse("notifications:open", args=[note.pk])} for note in unread[:5]
    ]
    if count > 5:
        items.append({"text": _("还有 %(n)d 条未读，查看全部") % {"n": count - 5}, "url": reverse("notifications:inbox")})
    return {"title": _("未读站内信（%(n)d 条）") % {"n": count}, "items": items}


@hooks.register("register_admin_viewset")
def register_background_group():
    return BackgroundGroup()


class WorkerHealthPanel(Component):
    name = "worker_health"
    template_name = "notifications/admin/worker_health_panel.html"
    order = 20

    def get_context_data(self, parent_context=None):
        from portal.tasks import worker_health

        return {"health": worker_health()}


@hooks.register("construct_homepage_panels")
def add_worker_health(request, panels):
    if request.user.is_superuser:
        panels.append(WorkerHealthPanel())


@hooks.register("register_log_actions")
def register_log_actions(actions):
    actions.register_action("portal.notifications.resend", gettext_lazy("重新发送通知"), gettext_lazy("重新发送通知"))
    actions.register_action(
        "portal.notifications.preferences", gettext_lazy("修改通知偏好"), gettext_lazy("修改通知偏好")
    )
    actions.register_action(
        "portal.notifications.robot_test", gettext_lazy("发送群机器人测试消息"), gettext_lazy("发送群机器人测试消息")
    )
    actions.register_action("portal.schedules.run_now", gettext_lazy("手动运行定时任务"), gettext_lazy("手动运行定时任务"))


def seed_notifications(log):
    """A welcome message in every demo inbox (inbox only: no 30 emails on the console)."""
    from portal.models import User

    from .services import notify

    created = notify(
        User.objects.filter(is_active=True),
        kind="system.welcome",
        event_key="demo:welcome",
        title=_("欢迎使用跨部门沟通协调门户"),
        body=_("通知、提醒和每日待办摘要会出现在这里。可在“通知偏好”中选择每类通知是否同时发邮件。"),
        url=reverse("notifications:preferences"),
        channels=["inbox"],
    )
    log(f"站内信：欢迎消息 {created} 条")


seed_notifications.order = 50
hooks.register("portal_seed_demo", seed_notifications)
