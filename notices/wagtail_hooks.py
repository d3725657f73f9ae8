"""Registers notices with Wagtail and the portal: admin statistics, audit-log actions, the
navigation badge, the home panel, the digest, notification kinds, schedules and demo data."""

from __future__ import annotations

from django.http import Http404
from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy as _

from wagtail import hooks
from wagtail.admin.ui.menus.pages import PageMenuItem
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from portal.nav import NavItem
from portal.schedules import ScheduleSpec

from . import admin_views, services
from .models import NoticeAttachment, NoticeCategory, NoticeIndexPage, NoticePage


@hooks.register("register_admin_urls")
def register_admin_urls():
    urls = [
        path("", admin_views.index, name="index"),
        path("<int:pk>/statistics/", admin_views.statistics, name="statistics"),
        path("<int:pk>/statistics/export.<str:fmt>", admin_views.export, name="export"),
        path("<int:pk>/statistics/remind/", admin_views.remind, name="remind"),
    ]
    return [path("notices/", include((urls, "notices_admin"), namespace="notices_admin"))]


class StatisticsButton(PageMenuItem):
    label = _("阅读统计")
    icon_name = "doc-full"
    url_name = "notices_admin:statistics"

    def is_shown(self, user):
        return isinstance(self.page.specific_deferred, NoticePage) and self.page.specific_deferred.can_view_statistics(user)


@hooks.register("register_page_header_buttons")
def statistics_header_button(page, user, view_name, next_url=None):
    if page.specific_class is NoticePage:
        yield StatisticsButton(page=page, priority=62)


@hooks.register("register_page_listing_more_buttons")
def statistics_listing_button(page, user, next_url=None):
    if page.specific_class is NoticePage:
        yield StatisticsButton(page=page, priority=45)


class NoticeCategoryViewSet(SnippetViewSet):
    model = NoticeCategory
    icon = "tag"
    menu_label = _("通告类别")
    list_display = ["name", "colour", "sort_order"]
    ordering = ["sort_order", "name"]


register_snippet(NoticeCategoryViewSet)


@hooks.register("register_log_actions")
def register_log_actions(actions):
    actions.register_action(services.ACTION_CONFIRM, _("确认已阅"), _("确认已阅"))
    actions.register_action(services.ACTION_RECONFIRM, _("发布新版本（需重新确认）"), _("发布新版本，要求重新确认"))
    actions.register_action(services.ACTION_REMIND, _("提醒未读"), _("提醒未确认人员"))
    actions.register_action(services.ACTION_REMIND_AUTO, _("截止前自动提醒"), _("截止前自动提醒"))
    actions.register_action(services.ACTION_OVERDUE, _("逾期名单发送部门负责人"), _("逾期名单发送部门负责人"))
    actions.register_action(services.ACTION_EXPORT, _("导出阅读统计"), _("导出阅读统计"))


@hooks.register("before_serve_document")
def protect_notice_attachments(document, request):
    """A document attached to notices is served only to someone who may see one of them."""
    notice_ids = list(NoticeAttachment.objects.filter(document=document).values_list("page_id", flat=True))
    if not notice_ids:
        return None
    user = request.user
    if user.is_authenticated and (user.is_superuser or user.has_perm("wagtaildocs.change_document")):
        return None
    if NoticePage.objects.current().visible_to(user).filter(pk__in=notice_ids).exists():
        return None
    raise Http404


# Portal hooks -------------------------------------------------------------------


def _index_url(request) -> str | None:
    index = NoticeIndexPage.objects.live().only("url_path").first()
    return index.get_url(request) if index else None


def unread_count(user) -> int:
    return NoticePage.objects.current().visible_to(user).unread_by(user).count()


@hooks.register("portal_nav_items")
def notices_nav_item(request):
    url = _index_url(request)
    if url is None:
        return None
    return NavItem(str(_("通告")), url, order=10, badge=unread_count(request.user) or None)


@hooks.register("portal_home_panels")
def unread_notices_panel(request):
    user = request.user
    if not user.is_authenticated:
        return None
    unread = list(
        NoticePage.objects.current()
        .visible_to(user)
        .with_reader_state(user)
        .filter(is_unread=True)
        .for_listing()
        .order_by("-is_pinned_now", "-first_published_at", "-pk")[:6]
    )
    return {
        "template": "notices/includes/home_panel.html",
        "order": 10,
        "title": _("未读通告"),
        "notices": unread[:5],
        "more": len(unread) > 5,
        "index_url": _index_url(request),
    }


@hooks.register("portal_digest_sections")
def digest_section(user):
    """For the daily digest: notices the person still has to confirm."""
    pending = list(
        NoticePage.objects.needing_confirmation()
        .visible_to(user)
        .unread_by(user)
        .defer_streamfields()
        .order_by("confirm_deadline", "-first_published_at")[:20]
    )
    if not pending:
        return None
    items = []
    for notice in pending:
        text = notice.title
        if notice.confirm_deadline:
            from django.utils import timezone

            text += "（截止 %s）" % timezone.localtime(notice.confirm_deadline).strftime("%m-%d %H:%M")
        items.append({"text": text, "url": notice.get_url() or ""})
    return {"title": str(_("待确认已阅的通告")), "items": items}


@hooks.register("portal_notification_kinds")
def notification_kinds():
    return [
        ("notice.published", str(_("新通告发布")), False),
        ("notice.reconfirm", str(_("通告更新需重新确认")), True),
        ("notice.remind", str(_("通告已阅提醒")), True),
        ("notice.overdue_department", str(_("本部门逾期未确认名单")), True),
    ]


@hooks.register("portal_schedules")
def schedules():
    return [
        ScheduleSpec(name="通告：截止前提醒与逾期名单", func="notices.tasks.send_due_reminders", minutes=10),
        ScheduleSpec(name="Wagtail 定时发布与下线", func="notices.tasks.publish_scheduled_pages", minutes=5),
    ]


def seed_demo(log):
    from .demo import seed_notices

    seed_notices(log)


seed_demo.order = 10
hooks.register("portal_seed_demo", seed_demo)


@hooks.register("register_admin_menu_item")
def notices_statistics_menu_item():
    from wagtail.admin.menu import MenuItem

    return MenuItem(_("通告阅读统计"), reverse("notices_admin:index"), icon_name="doc-full", order=210)
