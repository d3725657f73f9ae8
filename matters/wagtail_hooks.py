"""Matters in the portal: audit-log actions, the 我的提交 link and the home-page panel."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from wagtail import hooks

from portal.nav import NavItem

from . import hooks_routing  # noqa: F401 - routing, deadlines, ledgers
from .models import Matter


@hooks.register("register_log_actions")
def register_matter_log_actions(actions):
    actions.register_action("matters.open", _("提交事项"), _("事项已提交"))
    actions.register_action("matters.comment", _("事项留言"), _("添加了留言"))
    actions.register_action("matters.file_added", _("补充附件"), _("补充了附件"))
    actions.register_action("matters.status_change", _("事项状态变更"), _("变更了事项状态"))
    actions.register_action("matters.escalated", _("事项上报"), _("上报了事项"))
    actions.register_action("matters.overdue", _("事项逾期"), _("事项逾期"))
    actions.register_action("matters.resumed", _("恢复计时"), _("恢复了计时"))
    actions.register_action("matters.paused", _("请提交人补充"), _("要求提交人补充"))
    actions.register_action("matters.cooperation", _("事项配合"), _("填写了配合情况"))
    actions.register_action("matters.archived", _("事项归档"), _("归档了事项"))
    actions.register_action("matters.returned", _("事项退回"), _("退回了事项"))
    actions.register_action("matters.confirmed", _("事项确认"), _("确认了办结"))
    actions.register_action("matters.resolved", _("事项办结"), _("办结了事项"))
    actions.register_action("matters.progress", _("事项进度"), _("更新了进度"))
    actions.register_action("matters.accepted", _("事项受理"), _("受理了事项"))
    actions.register_action("matters.reassigned", _("事项改派"), _("改派了事项"))
    actions.register_action("matters.routed", _("事项分派"), _("按规则分派了事项"))


@hooks.register("portal_nav_items")
def my_submissions_nav(request):
    return NavItem(label=str(_("我的提交")), url=reverse("matters:mine"), order=30)


@hooks.register("portal_home_panels")
def my_open_submissions_panel(request):
    user = request.user
    if not user.is_authenticated:
        return None
    qs = Matter.objects.submitted_by(user).open().select_related("source_page")
    matters = list(qs[:5])
    return {
        "template": "matters/panels/my_open_submissions.html",
        "order": 30,
        "matters": matters,
        "more": len(matters) == 5 and qs.count() > 5,
        "url": reverse("matters:mine") + "?status=open",
    }
