"""Wagtail admin for background work and notifications.

后台任务与通知: group robots (edit, send a test message), delivery records (failed ones with
their error and a resend action), django-q2 schedules (edit timing, run now) and failed tasks
(read only, with their errors).
"""

from __future__ import annotations

import ast

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wagtail.admin.forms.models import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, FieldRowPanel, ObjectList
from wagtail.admin.ui.menus import MenuItem
from wagtail.admin.ui.tables import BooleanColumn, Column, DateColumn
from wagtail.admin.views import generic
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import HeaderButton
from wagtail.log_actions import log
from wagtail.permission_policies import ModelPermissionPolicy

from django_q.models import Failure, Schedule

from .kinds import registered_kinds
from .models import Channel, GroupRobot, Notification, Status


class OperationsPolicy(ModelPermissionPolicy):
    """Model permissions, but only for the actions a view allows (no adding schedules by hand)."""

    def __init__(self, model, allowed=("view",), **kwargs):
        super().__init__(model, **kwargs)
        self.allowed = set(allowed)

    def user_has_permission(self, user, action):
        return action in self.allowed and super().user_has_permission(user, action)

    def user_has_any_permission(self, user, actions):
        return any(self.user_has_permission(user, a) for a in actions)

    def user_has_permission_for_instance(self, user, action, instance):
        return self.user_has_permission(user, action)


def _short(text, n=80):
    return Truncator(str(text or "")).chars(n)


# -- group robots --------------------------------------------------------------------------------


class GroupRobotForm(WagtailAdminModelForm):
    kinds = forms.MultipleChoiceField(
        label=gettext_lazy("推送的通知类别"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("本部门人员收到这些类别的通知时，同时推送到群里。个人消息（如每日摘要）不建议勾选。"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kinds"].choices = [(k.code, k.label) for k in registered_kinds().values()]

    class Meta:
        model = GroupRobot
        fields = ["department", "name", "provider", "webhook_url", "secret", "kinds", "is_active"]
        widgets = {"secret": forms.PasswordInput(render_value=True)}


def send_robot_test(request, pk):
    from .services import deliver

    robot = get_object_or_404(GroupRobot, pk=pk)
    if not request.user.has_perm("notifications.change_grouprobot"):
        raise PermissionDenied
    if request.method != "POST":
        return redirect("notifications_robots:index")
    now = timezone.now()
    note = Notification.objects.create(
        robot=robot,
        channel=Channel.ROBOT,
        kind="system.test",
        event_key=f"robot-test:{robot.pk}:{now.timestamp()}",
        title=_("测试消息：%(name)s") % {"name": robot.name},
        body=_("这是来自协调门户的测试消息，收到即表示群机器人配置正确。"),
        url="/",
    )
    result = deliver(note.pk)
    note.refresh_from_db()
    log(instance=robot, action="portal.notifications.robot_test", user=request.user, data={"result": result})
    if note.status == Status.SENT:
        messages.success(request, _("测试消息已发送到 %(name)s。") % {"name": robot.name})
    else:
        messages.error(request, _("测试消息发送失败：%(error)s") % {"error": note.last_error})
    return redirect("notifications_robots:index")


class GroupRobotIndexView(generic.IndexView):
    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        buttons.append(
            MenuItem(
                _("发送测试消息"),
                url=reverse("notifications_robots:test", args=[instance.pk]),
                icon_name="mail",
                priority=40,
            )
        )
        return buttons


class GroupRobotViewSet(ModelViewSet):
    model = GroupRobot
    index_view_class = GroupRobotIndexView
    icon = "mail"
    menu_label = gettext_lazy("群机器人")
    add_to_admin_menu = False
    list_display = [
        "name",
        "department",
        "provider",
        Column("kinds_label", label=gettext_lazy("推送类别"), accessor=lambda r: robot_kinds_label(r)),
        BooleanColumn("is_active"),
    ]
    list_filter = ["provider", "is_active", "department"]
    search_fields = ["name"]
    edit_handler = ObjectList(
        [
            FieldRowPanel([FieldPanel("department"), FieldPanel("name")]),
            FieldPanel("provider"),
            FieldPanel("webhook_url"),
            FieldPanel("secret"),
            FieldPanel("kinds"),
            FieldPanel("is_active"),
        ],
        base_form_class=GroupRobotForm,
    )

    def get_queryset(self, request):
        return GroupRobot.objects.select_related("department")

    def get_urlpatterns(self):
        return [*super().get_urlpatterns(), path("test/<int:pk>/", send_robot_test, name="test")]


def robot_kinds_label(robot):
    kinds = registered_kinds()
    return "、".join(str(kinds[c].label) if c in kinds else c for c in robot.kinds or []) or "—"


# -- delivery records ----------------------------------------------------------------------------


def _can_resend(user):
    return user.is_active and (user.is_superuser or user.has_perm("notifications.change_notification"))


def resend_view(request, pk=None):
    """GET: confirm; POST: put one failed delivery (or all failed ones) back in the queue."""
    from .services import resend

    if not _can_resend(request.user):
        raise PermissionDenied
    if pk is not None:
        rows = [get_object_or_404(Notification, pk=pk)]
    else:
        rows = list(Notification.objects.failed().filter(channel__in=[Channel.EMAIL, Channel.ROBOT]))
    if request.method == "POST":
        count = resend(rows, user=request.user)
        messages.success(request, _("已重新排队 %(n)d 条发送记录。") % {"n": count})
        return redirect("notifications_deliveries:index")
    return TemplateResponse(
        request,
        "notifications/admin/resend_confirm.html",
        {"rows": rows[:50], "count": len(rows), "single": pk is not None, "header_icon": "redirect"},
    )


class DeliveryIndexView(generic.IndexView):
    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        if instance.channel != Channel.INBOX and instance.status in (Status.FAILED, Status.RETRYING, Status.PENDING):
            buttons.append(
                MenuItem(
                    _("重新发送"),
                    url=reverse("notifications_deliveries:resend", args=[instance.pk]),
                    icon_name="redirect",
                    priority=40,
                )
            )
        return buttons

    @property
    def header_buttons(self):
        buttons = list(super().header_buttons)
        if _can_resend(self.request.user) and Notification.objects.failed().exists():
            buttons.append(
                HeaderButton(_("重发全部失败"), url=reverse("notifications_deliveries:resend_failed"), icon_name="redirect")
            )
        return buttons


class DeliveryViewSet(ModelViewSet):
    model = Notification
    index_view_class = DeliveryIndexView
    icon = "list-ul"
    menu_label = gettext_lazy("发送记录")
    add_to_admin_menu = False
    inspect_view_enabled = True
    copy_view_enabled = False
    list_display = [
        "title",
        Column("target", label=gettext_lazy("接收方"), accessor="target_label"),
        "channel",
        "kind",
        "status",
        "attempts",
        Column("error", label=gettext_lazy("最近错误"), accessor=lambda n: _short(n.last_error)),
        DateColumn("created_at", label=gettext_lazy("创建时间")),
    ]
    list_filter = ["status", "channel", "kind"]
    search_fields = ["title", "event_key", "last_error"]
    list_per_page = 50
    inspect_view_fields = [
        "title",
        "recipient",
        "robot",
        "channel",
        "kind",
        "event_key",
        "body",
        "url",
        "status",
        "attempts",
        "last_error",
        "next_attempt_at",
        "created_at",
        "sent_at",
        "read_at",
    ]
    form_fields = ["status"]

    def get_queryset(self, request):
        return Notification.objects.select_related("recipient", "robot__department")

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("resend/<int:pk>/", resend_view, name="resend"),
            path("resend-failed/", resend_view, name="resend_failed"),
        ]


# -- django-q2 schedules and failed tasks --------------------------------------------------------


class ScheduleForm(WagtailAdminModelForm):
    class Meta:
        model = Schedule
        fields = ["schedule_type", "minutes", "cron", "next_run", "repeats"]

    def clean(self):
        data = super().clean()
        kind = data.get("schedule_type")
        if kind == Schedule.MINUTES and not data.get("minutes"):
            self.add_error("minutes", _("按分钟运行时必须填写间隔分钟数。"))
        if kind == Schedule.CRON and not data.get("cron"):
            self.add_error("cron", _("Cron 类型必须填写 Cron 表达式，例如 0 8 * * *（每天 8:00）。"))
        return data

    def save(self, commit=True):
        schedule = super().save(commit=False)
        if schedule.schedule_type == Schedule.CRON and "cron" in self.changed_data:
            schedule.next_run = schedule.calculate_next_run()
        if commit:
            schedule.save()
        return schedule


def _schedule_kwargs(text: str | None) -> dict:
    """The schedule's kwargs the way django-q2 reads them: a dict literal or "x=1, y='a'"."""
    if not text:
        return {}
    try:
        value = ast.literal_eval(text)
        return value if isinstance(value, dict) else {}
    except (ValueError, SyntaxError):
        pass
    try:
        call = ast.parse(f"f({text})").body[0].value
        return {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords}
    except (ValueError, SyntaxError, AttributeError):
        return {}


def _accepts_force(func_path: str) -> bool:
    import inspect

    from django.utils.module_loading import import_string

    try:
        return "force" in inspect.signature(import_string(func_path)).parameters
    except (ImportError, ValueError, TypeError):
        return False


def run_schedule_now(request, pk):
    from django_q.tasks import async_task

    if not (request.user.is_superuser or request.user.has_perm("django_q.change_schedule")):
        raise PermissionDenied
    schedule = get_object_or_404(Schedule, pk=pk)
    if request.method == "POST":
        kwargs = _schedule_kwargs(schedule.kwargs)
        if _accepts_force(schedule.func):
            kwargs["force"] = True  # an administrator asked for it: run even off the usual days
        task_id = async_task(schedule.func, **kwargs, task_name=f"{schedule.name}（手动运行）")
        log(instance=schedule, action="portal.schedules.run_now", user=request.user, data={"task": str(task_id)})
        messages.success(request, _("已将“%(name)s”交给后台任务进程运行。") % {"name": schedule.name or schedule.func})
    return redirect("notifications_schedules:index")


class ScheduleIndexView(generic.IndexView):
    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        buttons.append(
            MenuItem(
                _("立即运行"),
                url=reverse("notifications_schedules:run_confirm", args=[instance.pk]),
                icon_name="resubmit",
                priority=40,
            )
        )
        return buttons


def run_schedule_confirm(request, pk):
    schedule = get_object_or_404(Schedule, pk=pk)
    if request.method == "POST":
        return run_schedule_now(request, pk)
    return TemplateResponse(request, "notifications/admin/run_confirm.html", {"schedule": schedule})


def _timing(s: Schedule) -> str:
    if s.schedule_type == Schedule.MINUTES:
        return _("每 %(n)s 分钟") % {"n": s.minutes or 1}
    if s.schedule_type == Schedule.CRON:
        return f"cron {s.cron}"
    return s.get_schedule_type_display()


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "—"


def _last_result(s: Schedule):
    if not s.task:
        return "—"
    ok = s.success()
    return "—" if ok is None else (_("成功") if ok else _("失败"))


class ScheduleViewSet(ModelViewSet):
    model = Schedule
    index_view_class = ScheduleIndexView
    icon = "time"
    menu_label = gettext_lazy("定时任务")
    add_to_admin_menu = False
    copy_view_enabled = False
    list_display = [
        "name",
        "func",
        Column("timing", label=gettext_lazy("频率"), accessor=_timing),
        # A future moment: DateColumn's "time since" would say 刚刚 for every row.
        Column("next_run", label=gettext_lazy("下次运行"), accessor=lambda s: _local(s.next_run), sort_key="next_run"),
        Column("last", label=gettext_lazy("上次结果"), accessor=_last_result),
    ]
    search_fields = ["name", "func"]
    ordering = ["name"]
    form_fields = ScheduleForm.Meta.fields

    def get_form_class(self, for_update=False):
        return ScheduleForm

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("run/<int:pk>/", run_schedule_confirm, name="run_confirm"),
        ]


class FailedTaskViewSet(ModelViewSet):
    model = Failure
    icon = "warning"
    menu_label = gettext_lazy("失败任务")
    add_to_admin_menu = False
    inspect_view_enabled = True
    copy_view_enabled = False
    list_display = [
        "name",
        "func",
        DateColumn("stopped", label=gettext_lazy("结束时间")),
        "attempt_count",
        Column("error", label=gettext_lazy("错误"), accessor=lambda t: _short(t.result, 100)),
    ]
    search_fields = ["name", "func"]
    ordering = ["-stopped"]
    inspect_view_fields = ["name", "func", "args", "kwargs", "started", "stopped", "attempt_count", "result"]
    form_fields = ["hook"]  # never shown: the permission policy allows viewing only


class BackgroundGroup(ViewSetGroup):
    menu_label = gettext_lazy("后台任务与通知")
    menu_icon = "cogs"
    menu_order = 260
    items = (
        GroupRobotViewSet("notifications_robots"),
        DeliveryViewSet("notifications_deliveries"),
        ScheduleViewSet("notifications_schedules"),
        FailedTaskViewSet("notifications_failed_tasks"),
    )
