"""The letter index and the letter page (部门间函件): fields, audience rules and page permissions."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel, TitleFieldPanel
from wagtail.models import Orderable, Page, PageManager, PagePermissionTester
from wagtail.query import PageQuerySet
from wagtail.search import index

from modelcluster.fields import ParentalKey, ParentalManyToManyField

from letters.forms import LetterPageForm

from .records import private_storage


class Urgency(models.TextChoices):
    NORMAL = "normal", _("普通")
    URGENT = "urgent", _("加急")
    VERY_URGENT = "very_urgent", _("特急")


class Classification(models.TextChoices):
    PUBLIC = "public", _("公开")
    INTERNAL = "internal", _("内部")
    CONFIDENTIAL = "confidential", _("机密")


class LetterIndexPage(Page):
    """The one parent of all letters; its workflow (签发流程) applies to every letter below it."""

    intro = models.TextField(_("说明"), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    parent_page_types = ["home.HomePage"]
    subpage_types = ["letters.LetterPage"]
    max_count = 1

    class Meta:
        verbose_name = _("函件目录")

    def serve(self, request, *args, **kwargs):
        # The list is a front-end view with per-user tabs; the page only anchors the tree.
        return redirect("letters:inbox")


def user_department_ids(user) -> set[int]:
    """Departments a person speaks for: their own, and those they head or are liaison of."""
    ids = set(user.headed_departments.values_list("pk", flat=True))
    ids |= set(user.liaison_departments.values_list("pk", flat=True))
    if user.department_id:
        ids.add(user.department_id)
    return ids


class LetterPageQuerySet(PageQuerySet):
    def signed(self):
        """Letters that went through 签发: numbered, live and sent."""
        return self.live().filter(signed_at__isnull=False)

    def audience_q(self, user) -> Q:
        """Who may read a 机密 letter: issuing and receiving departments, named people, the chain."""
        dept_ids = user_department_ids(user)
        return (
            Q(issuing_department_id__in=dept_ids)
            | Q(to_departments__in=dept_ids)
            | Q(cc_departments__in=dept_ids)
            | Q(named_readers=user)
            | Q(owner=user)
            | Q(signer=user)
            | Q(issuing_department__supervising_leader=user)
        )

    def visible_to(self, user):
        """Signed letters this person may read; 机密 ones only within their audience."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        qs = self.signed()
        if user.is_superuser:
            return qs
        audience = LetterPage.objects.filter(self.audience_q(user)).values("pk")
        return qs.filter(~Q(classification=Classification.CONFIDENTIAL) | Q(pk__in=audience))

    def drafts_visible_to(self, user):
        """Letters the admin explorer may list: what ``visible_to`` allows once signed, and before
        签发 only the issuing side's (drafter, issuing department, its 分管领导)."""
        if user.is_superuser:
            return self
        dept_ids = user_department_ids(user)
        drafts = LetterPage.objects.filter(
            Q(owner=user) | Q(issuing_department_id__in=dept_ids) | Q(issuing_department__supervising_leader=user),
            signed_at__isnull=True,
        ).values("pk")
        return self.filter(Q(pk__in=LetterPage.objects.visible_to(user).values("pk")) | Q(pk__in=drafts))


LetterPageManager = PageManager.from_queryset(LetterPageQuerySet)


class LetterPermissionTester(PagePermissionTester):
    """A letter goes live only through its workflow's 签发, and a signed letter never changes."""

    @cached_property
    def _signed(self) -> bool:
        return bool(getattr(self.page, "signed_at", None))

    def can_publish(self):
        # Only the workflow's own final step publishes: the workflow state has just been marked
        # approved (WorkflowState.finish) and this person approved a step of it.
        from wagtail.models import TaskState, WorkflowState

        if self._signed or not self.user.is_active:
            return False
        state = self.page.workflow_states.order_by("-created_at", "-pk").first()
        return (
            state is not None
            and state.status == WorkflowState.STATUS_APPROVED
            and state.task_states.filter(status=TaskState.STATUS_APPROVED, finished_by=self.user).exists()
        )

    def can_publish_subpage(self):
        return False

    def can_unpublish(self):
        return False

    def can_edit(self):
        return not self._signed and super().can_edit()

    def can_delete(self, ignore_bulk=False):
        return not self._signed and not self.page.live and super().can_delete(ignore_bulk)

    def can_move(self):
        return False

    def can_lock(self):
        return not self._signed and super().can_lock()


class LetterPage(Page):
    """部门间函件: drafted by a department, reviewed by its head, signed (签发) by its 分管领导."""

    issuing_department = models.ForeignKey(
        "portal.Department", verbose_name=_("发文部门"), on_delete=models.PROTECT, related_name="letters_issued"
    )
    to_departments = ParentalManyToManyField(
        "portal.Department", verbose_name=_("主送"), related_name="letters_received"
    )
    cc_departments = ParentalManyToManyField(
        "portal.Department", verbose_name=_("抄送"), blank=True, related_name="letters_copied"
    )
    subject = models.TextField(_("事由"), help_text=_("一两句话说明为何发函。"))
    background = models.TextField(_("相关背景"), blank=True, help_text=_("每段一行；以“（一）”“1.”开头的行按层次排版。"))
    requests = models.TextField(_("要求和建议"), blank=True)
    body = models.TextField(_("其他正文"), blank=True, help_text=_("可选：不属于以上两部分的正文。"))
    urgency = models.CharField(_("紧急程度"), max_length=20, choices=Urgency.choices, default=Urgency.NORMAL)
    classification = models.CharField(
        _("密级"),
        max_length=20,
        choices=Classification.choices,
        default=Classification.INTERNAL,
        help_text=_("机密函件仅发文部门、主送和抄送部门及指定人员可见。"),
    )
    named_readers = ParentalManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("指定知悉人"), blank=True, related_name="letters_named"
    )
    reply_by = models.DateField(_("要求复函日期"), null=True, blank=True)
    contact = models.CharField(_("联系人及电话"), max_length=100, blank=True, help_text=_("印在附注处，例如“张工，0571-8800 1006”。"))
    in_reply_to = models.ForeignKey(
        "self", verbose_name=_("复函所答原函"), null=True, blank=True, on_delete=models.SET_NULL, related_name="replies"
    )
    thread_root = models.ForeignKey(
        "self", verbose_name=_("往来函件首函"), null=True, blank=True, editable=False, on_delete=models.SET_NULL, related_name="+"
    )
    corrects = models.ForeignKey(
        "self",
        verbose_name=_("更正的函件"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="corrections",
        help_text=_("已归档的函件不可修改；更正时另发新函并在此引用原函。"),
    )
    # Set once, at 签发; never edited afterwards.
    doc_number = models.CharField(_("发文字号"), max_length=64, unique=True, null=True, blank=True, editable=False)
    number_year = models.PositiveSmallIntegerField(_("字号年份"), null=True, blank=True, editable=False)
    number_seq = models.PositiveIntegerField(_("字号序号"), null=True, blank=True, editable=False)
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("签发人"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="letters_signed",
    )
    signed_at = models.DateTimeField(_("签发时间"), null=True, blank=True, editable=False)
    written_date = models.DateField(_("成文日期"), null=True, blank=True, editable=False)

    objects = LetterPageManager()
    base_form_class = LetterPageForm

    SIGNING_FIELDS = ("doc_number", "number_year", "number_seq", "signer_id", "signed_at", "written_date")
    exclude_fields_in_copy = ["doc_number", "number_year", "number_seq", "signer", "signed_at", "written_date"]

    content_panels = [
        # TitleFieldPanel keeps Wagtail's title → slug sync: the slug sits on the 推荐 tab.
        TitleFieldPanel("title", help_text=_("例如“关于协助做好电梯年检期间业主告知工作的函”。")),
        MultiFieldPanel(
            [
                FieldPanel("issuing_department"),
                FieldPanel("to_departments", widget=forms.CheckboxSelectMultiple),
                FieldPanel("cc_departments", widget=forms.CheckboxSelectMultiple),
            ],
            heading=_("发文与收文"),
        ),
        FieldRowPanel([FieldPanel("urgency"), FieldPanel("classification"), FieldPanel("reply_by")]),
        FieldPanel("named_readers"),
        FieldPanel("subject"),
        FieldPanel("background"),
        FieldPanel("requests"),
        FieldPanel("body"),
        InlinePanel("attachments", label=_("附件"), heading=_("附件")),
        FieldPanel("contact"),
        MultiFieldPanel([FieldPanel("in_reply_to"), FieldPanel("corrects")], heading=_("关联函件")),
    ]
    promote_panels = [FieldPanel("slug")]
    settings_panels: list = []

    parent_page_types = ["letters.LetterIndexPage"]
    subpage_types: list = []

    search_fields = [
        *Page.search_fields,
        index.SearchField("subject"),
        index.SearchField("background"),
        index.SearchField("requests"),
        index.SearchField("body"),
        index.SearchField("doc_number"),
        index.AutocompleteField("doc_number"),
        index.FilterField("classification"),
        index.FilterField("issuing_department"),
        index.FilterField("signed_at"),
        index.RelatedFields("issuing_department", [index.SearchField("name")]),
    ]

    class Meta:
        verbose_name = _("部门间函件")
        verbose_name_plural = _("部门间函件")
        constraints = [
            models.UniqueConstraint(
                fields=["issuing_department", "number_year", "number_seq"],
                condition=Q(number_seq__isnull=False),
                name="letter_number_unique_per_department_year",
            )
        ]

    def __str__(self):
        return f"{self.doc_number} {self.title}" if self.doc_number else self.title

    # --- Wagtail integration --------------------------------------------------------------------------

    def permissions_for_user(self, user):
        return LetterPermissionTester(user, self)

    def with_content_json(self, content):
        # A revision never carries the number: keep what 签发 wrote to the row.
        obj = super().with_content_json(content)
        for name in self.SIGNING_FIELDS:
            setattr(obj, name, getattr(self, name))
        obj.thread_root_id = self.thread_root_id
        return obj

    def _set_thread_root(self) -> None:
        """A 复函 belongs to the conversation of the letter it answers (one query for the thread)."""
        if self.in_reply_to_id and not self.thread_root_id:
            original = LetterPage.objects.filter(pk=self.in_reply_to_id).only("thread_root_id").first()
            if original is not None:
                self.thread_root_id = original.thread_root_id or original.pk

    def full_clean(self, *args, **kwargs):
        self._set_thread_root()
        super().full_clean(*args, **kwargs)

    def save(self, *args, **kwargs):
        self._set_thread_root()
        return super().save(*args, **kwargs)

    def serve(self, request, *args, **kwargs):
        if not getattr(request, "is_preview", False) and not self.is_visible_to(request.user):
            raise Http404
        return super().serve(request, *args, **kwargs)

    def get_context(self, request, *args, **kwargs):
        from letters.services import letter_page_context

        context = super().get_context(request, *args, **kwargs)
        context.update(letter_page_context(self, request.user))
        return context

    # --- reading --------------------------------------------------------------------------------------

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None and bool(self.doc_number)

    def is_visible_to(self, user) -> bool:
        return LetterPage.objects.visible_to(user).filter(pk=self.pk).exists()

    @property
    def is_confidential(self) -> bool:
        return self.classification == Classification.CONFIDENTIAL

    def paragraphs(self, field: str) -> list[str]:
        return [line.strip() for line in (getattr(self, field) or "").splitlines() if line.strip()]


class LetterAttachment(Orderable):
    """A file sent with a letter: kept in private storage, embedded in the archived PDF."""

    page = ParentalKey(LetterPage, on_delete=models.CASCADE, related_name="attachments")
    title = models.CharField(_("附件名称"), max_length=200)
    file = models.FileField(_("文件"), storage=private_storage, upload_to="letters/attachments/%Y/%m", max_length=255)

    panels = [FieldPanel("title"), FieldPanel("file")]

    class Meta(Orderable.Meta):
        verbose_name = _("附件")
        verbose_name_plural = _("附件")

    def __str__(self):
        return self.title

    @property
    def filename(self) -> str:
        return self.file.name.rsplit("/", 1)[-1] if self.file else ""
