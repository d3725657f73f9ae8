"""Letters in the portal and the admin: navigation badge, notification kinds, schedules, demo data,
audit-log actions, admin viewsets (number patterns, fonts, archives) and the explorer filter."""

from __future__ import annotations

from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from wagtail import hooks
from wagtail.admin.ui.tables import Column
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from portal.nav import NavItem
from portal.schedules import ScheduleSpec

from . import services
from .models import LetterArchive, LetterFont, LetterIndexPage, LetterNumberPattern, LetterPage


@hooks.register("portal_nav_items")
def letters_nav(request):
    from .views import pending_receipts_for

    if not request.user.is_authenticated:
        return None
    count = pending_receipts_for(request.user).count()
    return NavItem(label=str(_("函件")), url=reverse("letters:inbox"), order=40, badge=count or None)


@hooks.register("portal_home_panels")
def letters_home_panel(request):
    from .views import pending_receipts_for

    if not request.user.is_authenticated:
        return None
    pending = pending_receipts_for(request.user)
    count = pending.count()
    if not count:
        return None
    letters = (
        LetterPage.objects.filter(pk__in=pending.values("letter_id"))
        .select_related("issuing_department")
        .order_by("-signed_at")[:5]
    )
    return {"template": "letters/home_panel.html", "order": 40, "count": count, "letters": list(letters)}


@hooks.register("portal_notification_kinds")
def letter_notification_kinds():
    return [
        (services.KIND_REVIEW, _("函件待审核/签发"), False),
        (services.KIND_REJECTED, _("函件被退回修改"), True),
        (services.KIND_SIGNED, _("我起草的函件已签发"), False),
        (services.KIND_RECEIVED, _("收到函件待签收"), True),
        (services.KIND_REMIND, _("函件催签收"), True),
        (services.KIND_ACKNOWLEDGED, _("对方已签收函件"), False),
        (services.KIND_REPLIED, _("收到复函"), False),
        (services.KIND_REPLY_OVERDUE, _("复函逾期提醒"), False),
        (services.KIND_ARCHIVE_FAILED, _("函件归档失败（管理员）"), True),
    ]


@hooks.register("portal_schedules")
def letter_schedules():
    return [
        ScheduleSpec(
            name="letters.remind_unreceived", func="letters.tasks.remind_unreceived", schedule_type="I", minutes=60
        )
    ]


@hooks.register("portal_seed_demo")
def seed_letters(log):
    from .demo import seed_letters as run

    run(log)


seed_letters.order = 40


@hooks.register("register_log_actions")
def register_letter_actions(actions):
    actions.register_action("letters.sign", _("签发"), _("函件已签发并编号"))
    actions.register_action("letters.receive", _("签收"), _("收文部门已签收"))
    actions.register_action("letters.remind", _("催签"), _("已提醒收文部门签收"))
    actions.register_action("letters.archive", _("归档"), _("已生成归档 PDF"))
    actions.register_action("letters.archive_failed", _("归档失败"), _("归档 PDF 生成失败"))


@hooks.register("construct_explorer_page_queryset")
def hide_confidential_letters(parent_page, pages, request):
    """The page explorer lists only letters the person may read (机密 stays within its audience)."""
    user = request.user
    if user.is_superuser or not isinstance(parent_page.specific_deferred, LetterIndexPage):
        return pages
    allowed = LetterPage.objects.drafts_visible_to(user).values("pk")
    return pages.filter(pk__in=allowed)


@hooks.register("before_edit_page")
def refuse_signed_letter_edit(request, page):
    from django.contrib import messages
    from django.shortcuts import redirect

    specific = page.specific_deferred
    if isinstance(specific, LetterPage) and specific.signed_at is not None:
        messages.error(request, _("已签发的函件不能修改；如需更正，请另发新函并在“更正的函件”中引用原函。"))
        return redirect(specific.get_url() or "letters:inbox")
    return None


class ReadOnlyPolicy(ModelPermissionPolicy):
    """Archives are written by the archive task only: nobody adds, edits or deletes them here."""

    def user_has_permission(self, user, action):
        if action in ("add", "change", "delete", "copy", "lock", "unlock", "publish"):
            return False
        return user.is_active and user.is_superuser

    def user_has_any_permission(self, user, actions):
        return any(self.user_has_permission(user, a) for a in actions)


class DownloadColumn(Column):
    def get_value(self, instance):
        if instance.status != "done":
            return ""
        return format_html('<a href="{}">{}</a>', reverse("letters:pdf", args=[instance.letter_id]), _("下载 PDF"))


class LetterArchiveViewSet(SnippetViewSet):
    model = LetterArchive
    icon = "doc-full"
    menu_label = _("归档 PDF")
    list_display = ["letter", "status", "sha256", "size", "pages", "completed_at", DownloadColumn("download", label=_("文件"))]
    list_filter = ["status"]
    search_fields = ["sha256"]
    inspect_view_enabled = True
    inspect_view_fields = ["letter", "status", "sha256", "size", "pages", "pdf_variant", "embedded_files", "attempts", "error", "created_at", "completed_at"]


class LetterNumberPatternViewSet(SnippetViewSet):
    model = LetterNumberPattern
    icon = "order"
    menu_label = _("发文字号格式")
    list_display = ["department", "pattern", "example"]


class LetterFontViewSet(SnippetViewSet):
    model = LetterFont
    icon = "edit"
    menu_label = _("函件字体")
    list_display = ["name", "role", "priority", "active"]
    list_filter = ["role", "active"]


class LettersAdminGroup(SnippetViewSetGroup):
    menu_label = _("函件")
    menu_icon = "mail"
    menu_order = 240
    items = (LetterArchiveViewSet, LetterNumberPatternViewSet, LetterFontViewSet)


register_permission_policy(LetterArchive, ReadOnlyPolicy(LetterArchive))
register_snippet(LettersAdminGroup)
