"""紧急事项 in the portal and the admin: nav, home-page report button, notification kinds, the
minute sweep, demo data, audit-log actions and the admin viewsets (types, clocks, rosters)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from portal.nav import NavItem
from portal.schedules import ScheduleSpec

from . import services
from .models import ClockPolicy, DutyShift, Emergency, EmergencyType, HandoverNote


@hooks.register("portal_nav_items")
def emergencies_nav(request):
    if not request.user.is_authenticated:
        return None
    waiting = Emergency.objects.filter(
        paged__user=request.user, status="reported"
    ).count()
    return NavItem(label=str(_("紧急事项")), url=reverse("emergencies:index"), order=15, badge=waiting or None)


@hooks.register("portal_home_panels")
def emergencies_home_panel(request):
    """The report button sits on the home page: one tap to the form, one to send it."""
    if not request.user.is_authenticated:
        return None
    waiting = list(
        Emergency.objects.filter(paged__user=request.user, status="reported").select_related("event_type", "site")[:5]
    )
    waiting_ids = [e.pk for e in waiting]
    involved = list(
        Emergency.objects.open().filter(paged__user=request.user).exclude(pk__in=waiting_ids)
        .select_related("event_type", "site").order_by("-reported_at")[:5]
    )
    open_count = Emergency.objects.visible_to(request.user).open().count()
    return {
        "template": "emergencies/home_panel.html",
        "order": 5,
        "waiting": waiting,
        "involved": involved,
        "open_count": open_count,
        "report_url": reverse("emergencies:report"),
        "on_duty_url": reverse("emergencies:on_duty"),
        "index_url": reverse("emergencies:index"),
    }


@hooks.register("portal_notification_kinds")
def emergency_notification_kinds():
    return [
        (services.KIND_PAGE, _("突发事件呼叫"), True),
        (services.KIND_ESCALATED, _("突发事件超时上报"), True),
        (services.KIND_UPDATE, _("突发事件进展"), False),
        (services.KIND_REVIEW, _("突发事件复盘与整改"), True),
    ]


@hooks.register("portal_schedules")
def emergency_schedules():
    return [
        ScheduleSpec(name="emergencies.sweep_milestones", func="emergencies.tasks.sweep_milestones",
                     schedule_type="I", minutes=1)
    ]


@hooks.register("portal_seed_demo")
def seed_emergencies(log):
    from .demo import seed_emergencies as run

    run(log)


seed_emergencies.order = 60


@hooks.register("register_log_actions")
def register_emergency_actions(actions):
    actions.register_action("emergencies.report", _("突发事件上报"), _("上报了突发事件"))
    actions.register_action("emergencies.acknowledge", _("突发事件响应"), _("响应了突发事件"))
    actions.register_action("emergencies.update", _("突发事件动态"), _("发布了事件动态"))
    actions.register_action("emergencies.status", _("突发事件状态"), _("变更了事件状态"))
    actions.register_action("emergencies.group", _("应急小组"), _("组建了应急小组"))
    actions.register_action("emergencies.missed", _("突发事件超时"), _("时限节点超时并已上报"))
    actions.register_action("emergencies.review", _("突发事件复盘"), _("提交了复盘报告"))
    actions.register_action("emergencies.roster_import", _("导入值班表"), _("导入了值班表"))
    actions.register_action("emergencies.roster_copy", _("复制值班表"), _("复制了一周值班表"))
    actions.register_action("emergencies.handover", _("交接班"), _("填写了交接班记录"))


class EmergencyTypeViewSet(SnippetViewSet):
    model = EmergencyType
    icon = "warning"
    menu_label = _("事件类型")
    list_display = ["name", "sort_order", "is_active"]
    list_filter = ["is_active"]


class ClockPolicyViewSet(SnippetViewSet):
    model = ClockPolicy
    icon = "time"
    menu_label = _("时限设置")
    list_display = ["__str__", "respond_minutes", "written_minutes", "plan_minutes", "progress_minutes", "gm_minutes"]
    list_filter = ["grade"]


class DutyShiftViewSet(SnippetViewSet):
    model = DutyShift
    icon = "date"
    menu_label = _("值班表")
    list_display = ["date", "department", "shift", "person", "contact_phone", "starts_at", "ends_at"]
    list_filter = ["department", "date"]
    list_export = ["date", "department", "shift", "person", "phone", "starts_at", "ends_at"]
    search_fields = ["shift", "person__name", "person__username"]


class HandoverNoteViewSet(SnippetViewSet):
    model = HandoverNote
    icon = "doc-full"
    menu_label = _("交接班记录")
    list_display = ["created_at", "department", "author", "text"]
    list_filter = ["department"]


class EmergenciesAdminGroup(SnippetViewSetGroup):
    menu_label = _("紧急事项")
    menu_icon = "warning"
    menu_order = 230
    items = (EmergencyTypeViewSet, ClockPolicyViewSet, DutyShiftViewSet, HandoverNoteViewSet)


register_snippet(EmergenciesAdminGroup)


class RosterToolsMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm("emergencies.add_dutyshift")


@hooks.register("register_admin_menu_item")
def roster_tools_menu_item():
    return RosterToolsMenuItem(_("值班表导入/复制"), reverse("emergencies:roster_tools"), icon_name="download",
                               order=231)
