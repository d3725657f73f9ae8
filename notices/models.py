"""内部通告: the notice pages, their categories, and the per-person read records.

A notice has a *version*: 1 from its first publication, one more each time an editor publishes
with “需重新确认”. Receipts (已阅) and views are keyed by (notice, person, version), so a material
change asks everyone again while ordinary edits keep what was confirmed. Each receipt also
records the Wagtail revision that started the version it confirmed.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wagtail.admin.panels import (
    FieldPanel,
    FieldRowPanel,
    InlinePanel,
    MultiFieldPanel,
    ObjectList,
    TabbedInterface,
)
from wagtail.contrib.settings.models import BaseGenericSetting, register_setting
from wagtail.fields import StreamField
from wagtail.models import Orderable, Page, Revision
from wagtail.search import index

from modelcluster.fields import ParentalKey, ParentalManyToManyField

from .blocks import NoticeBodyBlock
from .forms import NoticePageForm
from .querysets import NoticePageManager


class NoticeCategory(models.Model):
    """通知 / 通报 / 制度 / 公告 and whatever else the administrators add."""

    class Colour(models.TextChoices):
        BLUE = "tag-blue", _("蓝")
        RED = "tag-red", _("红")
        AMBER = "tag-amber", _("橙")
        GREEN = "tag-green", _("绿")
        GREY = "tag", _("灰")

    name = models.CharField(_("名称"), max_length=20, unique=True)
    colour = models.CharField(_("标签颜色"), max_length=20, choices=Colour.choices, default=Colour.BLUE)
    sort_order = models.PositiveIntegerField(_("排序"), default=100)

    panels = [FieldPanel("name"), FieldRowPanel([FieldPanel("colour"), FieldPanel("sort_order")])]

    class Meta:
        verbose_name = _("通告类别")
        verbose_name_plural = _("通告类别")
        ordering = ["sort_order", "name"]

    def __str__(self):
        return self.name


class NoticeIndexPage(Page):
    """The list of notices a person may see, unread first."""

    intro = models.CharField(_("说明"), max_length=200, blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    parent_page_types = ["home.HomePage"]
    subpage_types = ["notices.NoticePage"]
    max_count = 1

    class Meta:
        verbose_name = _("通告栏")

    def get_context(self, request, *args, **kwargs):
        from .views import notice_list_context

        context = super().get_context(request, *args, **kwargs)
        context.update(notice_list_context(request))
        return context


class NoticePage(Page):
    issuing_department = models.ForeignKey(
        "portal.Department", verbose_name=_("发文部门"), on_delete=models.PROTECT, related_name="issued_notices"
    )
    category = models.ForeignKey(
        NoticeCategory, verbose_name=_("类别"), on_delete=models.PROTECT, related_name="notices"
    )
    summary = models.CharField(_("摘要"), max_length=200, blank=True, help_text=_("列表与提醒中显示，可留空。"))
    body = StreamField(NoticeBodyBlock(), verbose_name=_("正文"), blank=True, use_json_field=True)

    audience_everyone = models.BooleanField(_("全体员工"), default=True)
    audience_departments = ParentalManyToManyField(
        "portal.Department", verbose_name=_("部门（含下级部门）"), blank=True, related_name="+"
    )
    audience_roles = ParentalManyToManyField("portal.Role", verbose_name=_("角色"), blank=True, related_name="+")
    audience_people = ParentalManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("指定人员"), blank=True, related_name="+"
    )

    pinned_until = models.DateTimeField(_("置顶至"), null=True, blank=True, help_text=_("到此时间前排在列表最前。"))
    requires_confirmation = models.BooleanField(
        _("需确认已阅"), default=False, help_text=_("接收人须点击“已阅”确认；发文部门可查看未确认名单并提醒。")
    )
    confirm_deadline = models.DateTimeField(_("确认截止时间"), null=True, blank=True)
    reconfirm_requested = models.BooleanField(
        _("需重新确认"),
        default=False,
        help_text=_("内容有实质变更时勾选：发布后此前的确认不再计入新版本，全体接收人需重新确认。发布后自动取消勾选。"),
    )

    # The confirmation version: not content, so revisions never carry it (see with_content_json).
    version = models.PositiveIntegerField(_("版本"), default=0, editable=False)
    version_revision = models.ForeignKey(
        Revision,
        verbose_name=_("版本起始修订"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    version_started_at = models.DateTimeField(_("版本发布时间"), null=True, blank=True, editable=False)

    objects = NoticePageManager()

    base_form_class = NoticePageForm
    parent_page_types = ["notices.NoticeIndexPage"]
    subpage_types: list = []
    exclude_fields_in_copy = ["version", "version_revision", "version_started_at"]

    content_panels = [
        *Page.content_panels,
        FieldRowPanel([FieldPanel("issuing_department"), FieldPanel("category")]),
        FieldPanel("summary"),
        FieldPanel("body"),
        InlinePanel("attachments", label=_("附件"), heading=_("附件")),
    ]
    audience_panels = [
        MultiFieldPanel(
            [
                FieldPanel("audience_everyone"),
                FieldPanel("audience_departments", widget=forms.CheckboxSelectMultiple),
                FieldPanel("audience_roles", widget=forms.CheckboxSelectMultiple),
                FieldPanel(
                    "audience_people",
                    widget=forms.SelectMultiple(attrs={"size": 10}),
                    help_text=_("按住 Ctrl（Mac 上为 Command）可多选。"),
                ),
            ],
            heading=_("发布范围"),
            help_text=_("勾选“全体员工”，或取消勾选后选择部门、角色或人员（可组合）。"),
        ),
        MultiFieldPanel(
            [
                FieldPanel("pinned_until"),
                FieldPanel("requires_confirmation"),
                FieldPanel("confirm_deadline"),
                FieldPanel("reconfirm_requested"),
            ],
            heading=_("置顶与确认"),
        ),
    ]

    search_fields = [
        *Page.search_fields,
        index.SearchField("summary"),
        index.SearchField("body"),
        index.FilterField("audience_everyone"),
        index.FilterField("expire_at"),
        index.FilterField("version"),
        index.FilterField("pinned_until"),
        index.FilterField("confirm_deadline"),
        index.FilterField("issuing_department"),
        index.FilterField("category"),
        index.FilterField("requires_confirmation"),
        index.RelatedFields("issuing_department", [index.SearchField("name")]),
    ]

    class Meta:
        verbose_name = _("内部通告")
        verbose_name_plural = _("内部通告")
        indexes = [models.Index(fields=["pinned_until"])]

    edit_handler = TabbedInterface(
        [
            ObjectList(content_panels, heading=_("内容")),
            ObjectList(audience_panels, heading=_("范围与确认")),
            ObjectList(Page.promote_panels, heading=_("推广")),
            ObjectList(Page.settings_panels, heading=_("定时发布")),
        ]
    )

    def with_content_json(self, content):
        # The version belongs to the notice, not to a revision: keep the current values, as
        # Wagtail keeps ``live`` and ``first_published_at``.
        obj = super().with_content_json(content)
        obj.version = self.version
        obj.version_revision_id = self.version_revision_id
        obj.version_started_at = self.version_started_at
        return obj

    # Reading ----------------------------------------------------------------

    @property
    def is_pinned(self) -> bool:
        return bool(self.pinned_until and self.pinned_until > timezone.now())

    @property
    def is_expired_now(self) -> bool:
        return bool(self.expire_at and self.expire_at <= timezone.now())

    @property
    def deadline_passed(self) -> bool:
        return bool(self.confirm_deadline and self.confirm_deadline <= timezone.now())

    def is_visible_to(self, user) -> bool:
        return NoticePage.objects.current().visible_to(user).filter(pk=self.pk).exists()

    def can_view_statistics(self, user) -> bool:
        """The notice's editors and the head of the issuing department."""
        if not user.is_authenticated:
            return False
        if user.is_superuser:
            return True
        if self.issuing_department_id and self.issuing_department.head_id == user.pk:
            return True
        return self.permissions_for_user(user).can_edit()

    def serve(self, request, *args, **kwargs):
        from .views import serve_notice

        return serve_notice(self, request, *args, **kwargs)

    def get_template(self, request, *args, **kwargs):
        return "notices/notice_page.html"


class NoticeAttachment(Orderable):
    page = ParentalKey(NoticePage, on_delete=models.CASCADE, related_name="attachments")
    document = models.ForeignKey(
        "wagtaildocs.Document", verbose_name=_("文件"), on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(_("名称"), max_length=200, blank=True, help_text=_("留空则用文件标题。"))

    panels = [FieldPanel("document"), FieldPanel("title")]

    class Meta(Orderable.Meta):
        verbose_name = _("附件")
        verbose_name_plural = _("附件")

    def __str__(self):
        return self.display_title

    @property
    def display_title(self) -> str:
        return self.title or self.document.title


class NoticeReceipt(models.Model):
    """已阅: one per person per notice version; the first click wins."""

    notice = models.ForeignKey(NoticePage, verbose_name=_("通告"), on_delete=models.CASCADE, related_name="receipts")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("确认人"), on_delete=models.CASCADE, related_name="notice_receipts"
    )
    version = models.PositiveIntegerField(_("版本"))
    revision = models.ForeignKey(
        Revision,
        verbose_name=_("确认的修订"),
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("确认时间"), default=timezone.now)
    user_agent = models.CharField(_("设备"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("已阅确认")
        verbose_name_plural = _("已阅确认")
        constraints = [
            models.UniqueConstraint(fields=["notice", "user", "version"], name="notice_receipt_once_per_version")
        ]

    def __str__(self):
        return f"{self.user} · {self.notice_id} v{self.version}"


class NoticeView(models.Model):
    """Opened the notice (without necessarily confirming); the first opening per version."""

    notice = models.ForeignKey(NoticePage, verbose_name=_("通告"), on_delete=models.CASCADE, related_name="views")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("阅读人"), on_delete=models.CASCADE, related_name="notice_views"
    )
    version = models.PositiveIntegerField(_("版本"))
    viewed_at = models.DateTimeField(_("首次打开时间"), default=timezone.now)

    class Meta:
        verbose_name = _("打开记录")
        verbose_name_plural = _("打开记录")
        constraints = [models.UniqueConstraint(fields=["notice", "user", "version"], name="notice_view_once_per_version")]

    def __str__(self):
        return f"{self.user_id} · {self.notice_id} v{self.version}"


class NoticeReminder(models.Model):
    """A reminder round: manual (rate limited), automatic before the deadline, or the heads' list."""

    class Kind(models.TextChoices):
        MANUAL = "manual", _("手动提醒")
        AUTO = "auto", _("截止前自动提醒")
        OVERDUE = "overdue", _("逾期名单（部门负责人）")

    notice = models.ForeignKey(NoticePage, verbose_name=_("通告"), on_delete=models.CASCADE, related_name="reminders")
    version = models.PositiveIntegerField(_("版本"))
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    offset_hours = models.PositiveIntegerField(_("截止前小时数"), default=0)
    sent_at = models.DateTimeField(_("发送时间"), default=timezone.now)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("发送人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recipients = models.PositiveIntegerField(_("提醒人数"), default=0)

    class Meta:
        verbose_name = _("提醒记录")
        verbose_name_plural = _("提醒记录")
        ordering = ["-sent_at"]
        constraints = [
            # Automatic rounds happen once per notice version and offset, however often the sweep runs.
            models.UniqueConstraint(
                fields=["notice", "version", "kind", "offset_hours"],
                condition=~Q(kind="manual"),
                name="notice_reminder_auto_once",
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.notice_id} v{self.version}"


@register_setting(icon="doc-full")
class NoticeSettings(BaseGenericSetting):
    reminder_offsets = models.CharField(
        _("截止前自动提醒（小时）"),
        max_length=100,
        default="24,2",
        help_text=_("逗号分隔，例如“24,2”表示截止前 24 小时和 2 小时各提醒一次未确认的人。留空则不自动提醒。"),
    )
    manual_remind_interval = models.PositiveIntegerField(
        _("手动提醒最短间隔（分钟）"), default=30, help_text=_("同一通告两次“提醒未读”之间至少间隔的分钟数。")
    )
    notify_on_publish = models.BooleanField(_("发布时通知接收人"), default=True)

    class Meta:
        verbose_name = _("通告设置")

    @property
    def offsets(self) -> list[int]:
        result = set()
        for part in self.reminder_offsets.replace("，", ",").split(","):
            part = part.strip()
            if part.isdigit() and int(part) > 0:
                result.add(int(part))
        return sorted(result, reverse=True)
