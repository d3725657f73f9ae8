"""Matters in the portal: audit-log actions, the 我的提交 link and the home-page panel."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from wagtail import hooks

from portal.nav import NavItem

from .models import Matter


@hooks.register("register_log_actions")
def register_matter_log_actions(actions):
    actions.register_action("matters.open", _("提交事项"), _("事项已提交"))
    actions.register_action("matters.comment", _("事项留言"), _("添加了留言"))
    actions.register_action("matters.file_added", _("补充附件"), _("补充了附件"))
    actions.register_action("matters.status_change", _("事项状态变更"), _("变更了事项状态"))


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
