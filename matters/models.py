"""Tracked matters (事项): the one model every source (form pages, meetings, ...) turns into.

A matter has a readable reference number, a submitter, a status over the domain's whole life,
departments responsible for it, a history of events and private attachments. Form pages create
matters through ``matters.services.open_matter``; routing, deadlines and reminders (issue 5)
extend this model rather than copying it.
"""

from __future__ import annotations

import hashlib
import os
import uuid

from django.conf import settings
from django.core.files.storage import storages
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from portal.models import Department, Role


class MatterStatus(models.TextChoices):
    SUBMITTED = "submitted", _("已提交")
    ROUTED = "routed", _("已分派")
    ACCEPTED = "accepted", _("已受理")
    IN_PROGRESS = "in_progress", _("处理中")
    RESOLVED = "resolved", _("已办结")
    CONFIRMED = "confirmed", _("已确认")
    RETURNED = "returned", _("退回")
    ARCHIVED = "archived", _("已归档")
    WITHDRAWN = "withdrawn", _("已撤回")


# Statuses in which the matter still needs work from someone.
OPEN_STATUSES = frozenset(
    {
        MatterStatus.SUBMITTED,
        MatterStatus.ROUTED,
        MatterStatus.ACCEPTED,
        MatterStatus.IN_PROGRESS,
        MatterStatus.RESOLVED,
        MatterStatus.RETURNED,
    }
)
CLOSED_STATUSES = frozenset(set(MatterStatus) - OPEN_STATUSES)
# The submitter may withdraw only before a department has accepted the matter.
WITHDRAWABLE_STATUSES = frozenset({MatterStatus.SUBMITTED, MatterStatus.ROUTED})

# Which status may follow which. ``services.change_status`` enforces it; the routing issue may
# add edges here (it is a plain dict of sets on purpose).
TRANSITIONS: dict[str, set[str]] = {
    MatterStatus.SUBMITTED: {MatterStatus.ROUTED, MatterStatus.ACCEPTED, MatterStatus.WITHDRAWN},
    MatterStatus.ROUTED: {MatterStatus.ROUTED, MatterStatus.ACCEPTED, MatterStatus.WITHDRAWN, MatterStatus.SUBMITTED},
    MatterStatus.ACCEPTED: {MatterStatus.IN_PROGRESS, MatterStatus.RESOLVED, MatterStatus.ROUTED},
    MatterStatus.IN_PROGRESS: {MatterStatus.RESOLVED, MatterStatus.ROUTED},
    MatterStatus.RESOLVED: {MatterStatus.CONFIRMED, MatterStatus.RETURNED, MatterStatus.ARCHIVED},
    MatterStatus.RETURNED: {MatterStatus.IN_PROGRESS, MatterStatus.RESOLVED, MatterStatus.ROUTED},
    MatterStatus.CONFIRMED: {MatterStatus.ARCHIVED},
    MatterStatus.ARCHIVED: set(),
    MatterStatus.WITHDRAWN: set(),
}


class Urgency(models.TextChoices):
    HIGH = "high", _("高")
    MEDIUM = "medium", _("中")
    LOW = "low", _("低")


class Grade(models.TextChoices):
    NORMAL = "normal", _("一般")
    IMPORTANT = "important", _("重要")
    MAJOR = "major", _("重大")


def user_department_ids(user) -> set[int]:
    """Departments a person works for: their own, and those they head or are liaison of."""
    if not getattr(user, "is_authenticated", False):
        return set()
    cache = getattr(user, "_matters_department_ids", None)
    if cache is not None:
        return cache
    ids = set(
        Department.objects.filter(Q(head=user) | Q(liaisons=user)).values_list("pk", flat=True)
    )
    if user.department_id:
        ids.add(user.department_id)
    user._matters_department_ids = ids
    return ids


def is_coordinator(user) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    cache = getattr(user, "_matters_is_coordinator", None)
    if cache is None:
        cache = user.roles.filter(code=Role.COORDINATOR).exists()
        user._matters_is_coordinator = cache
    return cache


class MatterQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Matters a person may see.

        The submitter; the head of the submitter's department; members, heads and liaisons of
        the lead and cooperating departments; the handler; coordinators and superusers see all.
        """
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if is_coordinator(user):
            return self.all()
        dept_ids = user_department_ids(user)
        headed = Department.objects.filter(head=user).values("pk")
        cooperating = Matter.cooperating_departments.through.objects.filter(
            matter_id=OuterRef("pk"), department_id__in=dept_ids
        )
        return self.filter(
            Q(submitter=user)
            | Q(handler=user)
            | Q(submitter_department__in=headed)
            | Q(lead_department_id__in=dept_ids)
            | Exists(cooperating)
        )

    def submitted_by(self, user):
        return self.filter(submitter=user)

    def open(self):
        return self.filter(status__in=OPEN_STATUSES)

    def closed(self):
        return self.filter(status__in=CLOSED_STATUSES)

    def with_related(self):
        return self.select_related("submitter", "submitter_department", "lead_department", "handler", "source_page")


class Matter(models.Model):
    """A tracked matter (事项): 件件有回音、事事有结果."""

    reference = models.CharField(_("编号"), max_length=40, unique=True)
    title = models.CharField(_("标题"), max_length=200)
    source_page = models.ForeignKey(
        "wagtailcore.Page",
        verbose_name=_("来源表单"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    submitter = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("提交人"), on_delete=models.PROTECT, related_name="submitted_matters"
    )
    submitter_department = models.ForeignKey(
        Department,
        verbose_name=_("提交部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="submitted_matters",
    )
    status = models.CharField(
        _("状态"), max_length=20, choices=MatterStatus.choices, default=MatterStatus.SUBMITTED, db_index=True
    )
    urgency = models.CharField(_("紧急程度"), max_length=10, choices=Urgency.choices, default=Urgency.MEDIUM)
    grade = models.CharField(_("等级"), max_length=10, choices=Grade.choices, blank=True, help_text=_("分派时确定。"))
    lead_department = models.ForeignKey(
        Department,
        verbose_name=_("牵头部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="led_matters",
    )
    cooperating_departments = models.ManyToManyField(
        Department, verbose_name=_("配合部门"), blank=True, related_name="cooperating_matters"
    )
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("经办人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="handled_matters",
    )
    commitment_date = models.DateField(_("承诺办结日期"), null=True, blank=True)
    # Routing: the rule that decided, its version and what it saw ("why this came to us").
    routing_rule = models.ForeignKey(
        "matters.RoutingRule", verbose_name=_("分派规则"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    routing_version = models.PositiveIntegerField(_("规则版本"), null=True, blank=True)
    routing_data = models.JSONField(_("分派依据"), default=dict, blank=True)
    policy = models.ForeignKey(
        "matters.DeadlinePolicy", verbose_name=_("时限规则"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Milestones and deadlines (lifecycle.refresh_deadlines keeps them in step).
    routed_at = models.DateTimeField(_("分派时间"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    stage_started_at = models.DateTimeField(_("本阶段开始"), null=True, blank=True)
    accept_due = models.DateTimeField(_("受理时限"), null=True, blank=True)
    progress_due = models.DateTimeField(_("下次进度更新"), null=True, blank=True)
    resolve_due = models.DateTimeField(_("办结时限"), null=True, blank=True)
    confirm_due = models.DateTimeField(_("确认时限"), null=True, blank=True)
    current_due_at = models.DateTimeField(_("当前时限"), null=True, blank=True, db_index=True)
    deadlines_provisional = models.BooleanField(_("时限待定（日历未公布）"), default=False)
    last_progress_at = models.DateTimeField(_("最近进度"), null=True, blank=True)
    paused_at = models.DateTimeField(_("等待补充自"), null=True, blank=True)
    paused_hours = models.FloatField(_("已暂停（小时）"), default=0)
    escalation_level = models.PositiveSmallIntegerField(
        _("上报级别"), default=0, help_text=_("0 未上报，1 已提醒部门负责人，2 已上报分管领导，3 已上报总经理。")
    )
    # The sweep: the next moment something is owed about the matter (indexed: the sweep reads
    # only rows that are due) and how far it has already handled this matter.
    next_due_at = models.DateTimeField(_("下次检查"), null=True, blank=True, db_index=True)
    swept_until = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("提交时间"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = MatterQuerySet.as_manager()

    class Meta:
        verbose_name = _("事项")
        verbose_name_plural = _("事项")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["submitter", "-created_at"]), models.Index(fields=["status", "-created_at"])]

    def __str__(self):
        return f"{self.reference} {self.title}"

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("matters:detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def is_overdue_at(self, now) -> bool:
        """Overdue in a stage the handling department owes (not the originator's confirmation)."""
        return (
            self.status in {MatterStatus.ROUTED, MatterStatus.ACCEPTED, MatterStatus.IN_PROGRESS, MatterStatus.RETURNED}
            and self.current_due_at is not None
            and self.current_due_at < now
            and self.paused_at is None
        )

    @property
    def is_overdue(self) -> bool:
        return self.is_overdue_at(timezone.now())

    @property
    def can_be_withdrawn(self) -> bool:
        return self.status in WITHDRAWABLE_STATUSES

    @property
    def status_tag(self) -> str:
        """CSS tag colour for the status (portal.css: tag-red/-green/-amber/-blue)."""
        return {
            MatterStatus.SUBMITTED: "tag-blue",
            MatterStatus.ROUTED: "tag-blue",
            MatterStatus.ACCEPTED: "tag-amber",
            MatterStatus.IN_PROGRESS: "tag-amber",
            MatterStatus.RESOLVED: "tag-green",
            MatterStatus.CONFIRMED: "tag-green",
            MatterStatus.RETURNED: "tag-red",
        }.get(self.status, "")

    @property
    def urgency_tag(self) -> str:
        return {Urgency.HIGH: "tag-red", Urgency.MEDIUM: "tag-amber"}.get(self.urgency, "")

    # Permission predicates used by services and templates. They answer for this one matter;
    # ``Matter.objects.visible_to`` answers for lists.
    def is_visible_to(self, user) -> bool:
        return Matter.objects.visible_to(user).filter(pk=self.pk).exists()

    def can_comment(self, user) -> bool:
        return self.is_visible_to(user)

    def can_add_files(self, user) -> bool:
        return self.is_visible_to(user) and self.status not in {MatterStatus.ARCHIVED}

    def can_withdraw(self, user) -> bool:
        return user.is_authenticated and (user.pk == self.submitter_id or user.is_superuser)

    def can_change_status(self, user) -> bool:
        """Coordinators, superusers, the handler and heads/liaisons of the lead department."""
        if is_coordinator(user) or (self.handler_id and user.pk == self.handler_id):
            return True
        if not self.lead_department_id:
            return False
        return Department.objects.filter(
            Q(head=user) | Q(liaisons=user), pk=self.lead_department_id
        ).exists()


class EventKind(models.TextChoices):
    CREATED = "created", _("提交")
    COMMENT = "comment", _("留言")
    STATUS_CHANGE = "status_change", _("状态变更")
    FILE_ADDED = "file_added", _("补充附件")
    WITHDRAWN = "withdrawn", _("撤回")
    ROUTED = "routed", _("分派")
    REASSIGNED = "reassigned", _("改派")
    ACCEPTED = "accepted", _("受理")
    PROGRESS = "progress", _("进度")
    RESOLVED = "resolved", _("办结")
    CONFIRMED = "confirmed", _("确认")
    RETURNED = "returned", _("退回")
    ARCHIVED = "archived", _("归档")
    COOPERATION = "cooperation", _("配合")
    PAUSED = "paused", _("请提交人补充")
    RESUMED = "resumed", _("恢复计时")
    OVERDUE = "overdue", _("逾期")
    ESCALATED = "escalated", _("上报")


class MatterEvent(models.Model):
    """One entry of a matter's history (留痕). ``kind`` is free text with known choices so that
    other apps can add kinds (routed, reminder, escalated, ...) without a schema change."""

    matter = models.ForeignKey(Matter, verbose_name=_("事项"), on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("类型"), max_length=30, choices=EventKind.choices, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    text = models.TextField(_("内容"), blank=True)
    data = models.JSONField(_("数据"), default=dict, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("事项记录")
        verbose_name_plural = _("事项记录")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.matter.reference} {self.get_kind_display()}"

    @property
    def kind_label(self) -> str:
        return self.get_kind_display()

    @property
    def status_label(self) -> str:
        """For status events: the label of the status moved to."""
        to = self.data.get("to") if isinstance(self.data, dict) else None
        return MatterStatus(to).label if to in MatterStatus.values else ""


def private_storage():
    return storages["private"]


def attachment_path(instance, filename):
    # The stored name never contains the uploaded name: it cannot traverse or collide.
    ext = os.path.splitext(filename)[1].lower()[:10]
    now = timezone.now()
    return f"matters/{now:%Y/%m}/{uuid.uuid4().hex}{ext}"


class AttachmentQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(matter__in=Matter.objects.visible_to(user))


class Attachment(models.Model):
    """A file attached to a matter, in private storage; served only through a permission check."""

    matter = models.ForeignKey(Matter, verbose_name=_("事项"), on_delete=models.CASCADE, related_name="attachments")
    event = models.ForeignKey(
        MatterEvent, verbose_name=_("记录"), null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments"
    )
    field_key = models.CharField(_("表单字段"), max_length=255, blank=True)
    file = models.FileField(_("文件"), storage=private_storage, upload_to=attachment_path, max_length=255)
    original_name = models.CharField(_("文件名"), max_length=255)
    size = models.PositiveBigIntegerField(_("大小（字节）"))
    content_type = models.CharField(_("类型"), max_length=100, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("上传人"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now)

    objects = AttachmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        ordering = ["uploaded_at", "pk"]

    def __str__(self):
        return self.original_name

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("matters:attachment", args=[self.pk])

    @cached_property
    def size_display(self) -> str:
        if self.size >= 1024 * 1024:
            return f"{self.size / 1024 / 1024:.1f} MB"
        return f"{max(1, round(self.size / 1024))} KB"

    @staticmethod
    def digest(fileobj) -> str:
        h = hashlib.sha256()
        fileobj.seek(0)
        for chunk in iter(lambda: fileobj.read(64 * 1024), b""):
            h.update(chunk)
        fileobj.seek(0)
        return h.hexdigest()


class ReferenceCounter(models.Model):
    """The last number issued in one reference scope (e.g. ``XQ-2026-#``). Locked with
    SELECT ... FOR UPDATE while a matter is created, so numbers are unique and gap-free."""

    scope = models.CharField(_("范围"), max_length=60, unique=True)
    last_value = models.PositiveIntegerField(_("当前序号"), default=0)

    class Meta:
        verbose_name = _("编号计数器")
        verbose_name_plural = _("编号计数器")

    def __str__(self):
        return f"{self.scope}: {self.last_value}"


# Routing rules and deadline policies live in their own module (imported here so Django finds them).
from .rule_models import DeadlinePolicy, RoutingRule, RuleAdminForm, RuleCondition  # noqa: E402,F401
