"""Wagtail hooks and signal receivers for routing, deadlines, reminders and ledgers
(imported by ``wagtail_hooks``)."""

from __future__ import annotations

import logging

from django.dispatch import receiver
from django.urls import include, path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wagtail import hooks
from wagtail.admin.menu import Menu, MenuItem, SubmenuMenuItem
from wagtail.snippets.models import register_snippet

from portal.nav import NavItem
from portal.schedules import ScheduleSpec
from portal.signals import calendar_changed

from . import admin_urls
from .admin_views import RoutingGroup
from .models import user_department_ids
from .signals import matter_opened

logger = logging.getLogger(__name__)

register_snippet(RoutingGroup)


@receiver(matter_opened, dispatch_uid="matters.route_on_open")
def route_on_open(sender, matter, **kwargs):
    """A matter submitted through a form is routed by the rules at once. Matters from other
    sources (no form page), and any whose routing failed, are routed by the next sweep."""
    from .lifecycle import route_matter

    if not matter.source_page_id:
        return
    try:
        route_matter(matter)
    except Exception:
        logger.exception("Routing matter %s failed; the sweep will retry", matter.pk)


@receiver(calendar_changed, dispatch_uid="matters.recompute_on_calendar_change")
def recompute_on_calendar_change(sender, years=None, **kwargs):
    from django_q.tasks import async_task

    async_task("matters.tasks.recompute_provisional_deadlines", sorted(years or []))


@hooks.register("portal_schedules")
def matters_schedules():
    return [ScheduleSpec(name="matters.sweep_reminders", func="matters.tasks.sweep_reminders", minutes=5)]


@hooks.register("portal_notification_kinds")
def matters_notification_kinds():
    return [
        ("matter.routed", _("新事项待受理"), False),
        ("matter.copy", _("事项抄送"), False),
        ("matter.progress", _("事项进展"), False),
        ("matter.resolved", _("事项办结待确认"), False),
        ("matter.returned", _("事项被退回"), True),
        ("matter.reminder", _("事项到期提醒"), False),
        ("matter.overdue", _("事项逾期"), True),
        ("matter.escalated", _("事项上报"), True),
    ]


@hooks.register("portal_digest_sections")
def matters_digest(user):
    from .work_views import todo_queryset

    end_of_today = timezone.localtime().replace(hour=23, minute=59, second=59)
    qs = todo_queryset(user).filter(current_due_at__lte=end_of_today, paused_at__isnull=True).order_by("current_due_at")
    now = timezone.now()
    items = [
        {
            "text": "%s%s %s（%s %s）"
            % ("【逾期】" if m.current_due_at < now else "", m.reference, m.title, _("时限"),
               timezone.localtime(m.current_due_at).strftime("%m-%d %H:%M")),
            "url": m.get_absolute_url(),
        }
        for m in qs[:20]
    ]
    return {"title": str(_("今日到期与逾期事项")), "items": items} if items else None


@hooks.register("portal_nav_items")
def todo_nav(request):
    from .work_views import todo_queryset

    user = request.user
    if not user.is_authenticated or not (user_department_ids(user) or user.is_superuser):
        return None
    badge = todo_queryset(user).count()
    return NavItem(label=str(_("部门待办")), url=reverse("matters:todo"), order=35, badge=badge or None)


@hooks.register("matters_detail_panels")
def handling_panel(request, matter):
    from .work_views import detail_panel

    return detail_panel(request, matter)


@hooks.register("register_admin_urls")
def register_matters_admin_urls():
    return [path("matters/", include(admin_urls, namespace="matters_admin"))]


@hooks.register("register_admin_menu_item")
def matters_menu():
    items = [
        MenuItem(_("部门待办"), reverse("matters_admin:todo"), icon_name="tasks", order=1),
        MenuItem(_("事项台账"), reverse("matters_admin:ledger"), icon_name="table", order=2),
        MenuItem(_("按时办结统计"), reverse("matters_admin:figures"), icon_name="order", order=3),
        MenuItem(_("分派规则试运行"), reverse("matters_admin:try"), icon_name="resubmit", order=4),
    ]
    return SubmenuMenuItem(_("事项"), Menu(items=items), icon_name="tasks", name="matters", order=250)


@hooks.register("before_delete_snippet")
def keep_fallback_rule(request, instances):
    from django.contrib import messages
    from django.shortcuts import redirect

    from .rule_models import RoutingRule

    if any(isinstance(i, RoutingRule) and i.is_fallback for i in instances):
        messages.error(request, _("兜底规则不能删除：没有规则匹配时，事项由它交给协调岗。可以修改它的牵头部门。"))
        return redirect("wagtailsnippets_matters_routingrule:list")
    return None


@hooks.register("portal_seed_demo")
def seed_matters_demo(log):
    from .demo import seed_matters

    seed_matters(log)


seed_matters_demo.order = 30
