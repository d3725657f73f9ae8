"""Emergencies (紧急事项): duty rosters, reported events on clock milestones, timeline, review."""

from __future__ import annotations

import os
import uuid

from django.core.exceptions import ValidationError
from django.core.files.storage import storages
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wagtail.search import index


def private_storage():
    return storages["private"]


def photo_path(instance, filename):
    # The stored name never contains the uploaded name: it cannot traverse or collide.
    ext = os.path.splitext(filename)[1].lower()[:10]
    return f"emergencies/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{ext}"


class Grade(models.TextChoices):
    EXTREME = "extreme", _("特别重大")
    MAJOR = "major", _("重大")
    LARGER = "larger", _("较大")
    GENERAL = "general", _("一般")


class EmergencyType(index.Indexed, models.Model):
    """电梯困人 / 停水 / 停电 / ...: which departments it pages is editable."""

    name = models.CharField(_("名称"), max_length=50, unique=True)
    departments = models.ManyToManyField(
        "portal.Department", verbose_name=_("通知部门"), blank=True, related_name="emergency_types",
        help_text=_("上报后呼叫这些部门当班的人员及其分管领导。"),
    )
    sort_order = models.PositiveIntegerField(_("排序"), default=100)
    is_active = models.BooleanField(_("启用"), default=True)

    search_fields = [index.SearchField("name")]

    class Meta:
        verbose_name = _("突发事件类型")
        verbose_name_plural = _("突发事件类型")
        ordering = ["sort_order", "name"]

    def __str__(self):
        return self.name


class ClockPolicy(models.Model):
    """Clock minutes of the milestones for a grade, optionally only for one event type."""

    event_type = models.ForeignKey(
        EmergencyType, verbose_name=_("事件类型"), null=True, blank=True, on_delete=models.CASCADE,
        help_text=_("留空表示适用于所有类型。"),
    )
    grade = models.CharField(_("等级"), max_length=10, choices=Grade.choices, default=Grade.GENERAL)
    respond_minutes = models.PositiveIntegerField(_("响应时限（分钟）"), default=30)
    written_minutes = models.PositiveIntegerField(_("书面报告时限（分钟）"), default=60)
    plan_minutes = models.PositiveIntegerField(_("处置方案时限（分钟）"), default=120)
    progress_minutes = models.PositiveIntegerField(_("进展报告间隔（分钟）"), default=240)
    gm_minutes = models.PositiveIntegerField(_("未控制报总经理（分钟）"), default=120)

    class Meta:
        verbose_name = _("时限设置")
        verbose_name_plural = _("时限设置")
        constraints = [
            models.UniqueConstraint(fields=["event_type", "grade"], name="emergency_clock_type_grade"),
            models.UniqueConstraint(
                fields=["grade"], condition=Q(event_type__isnull=True), name="emergency_clock_grade_default"
            ),
        ]

    def __str__(self):
        scope = self.event_type.name if self.event_type_id else _("所有类型")
        return f"{scope} · {self.get_grade_display()}"

    def clean(self):
        super().clean()
        for field in ("respond_minutes", "written_minutes", "plan_minutes", "progress_minutes", "gm_minutes"):
            if not getattr(self, field):
                raise ValidationError({field: _("时限必须大于 0 分钟。")})


class DutyShiftQuerySet(models.QuerySet):
    def on_duty(self, moment=None):
        moment = moment or timezone.now()
        return self.filter(starts_at__lte=moment, ends_at__gt=moment)


class DutyShift(models.Model):
    """One person on duty for a department (or the company, department left empty) in one shift."""

    department = models.ForeignKey(
        "portal.Department", verbose_name=_("部门"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="duty_shifts", help_text=_("留空表示公司级值班。"),
    )
    date = models.DateField(_("日期"))
    shift = models.CharField(_("班次"), max_length=20, default=_("白班"))
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    person = models.ForeignKey(
        "portal.User", verbose_name=_("值班人"), on_delete=models.CASCADE, related_name="duty_shifts"
    )
    phone = models.CharField(_("值班电话"), max_length=30, blank=True, help_text=_("留空则使用本人手机。"))

    objects = DutyShiftQuerySet.as_manager()

    class Meta:
        verbose_name = _("值班安排")
        verbose_name_plural = _("值班表")
        ordering = ["date", "department__sort_order", "starts_at"]
        indexes = [models.Index(fields=["starts_at", "ends_at"])]
        constraints = [
            models.UniqueConstraint(fields=["department", "person", "starts_at"], name="emergency_shift_unique"),
        ]

    def __str__(self):
        where = self.department.name if self.department_id else _("公司")
        return f"{self.date} {where} {self.shift} {self.person}"

    def clean(self):
        super().clean()
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("结束时间必须晚于开始时间。")})

    @property
    def contact_phone(self) -> str:
        return self.phone or getattr(self.person, "mobile", "") or ""


class HandoverNote(models.Model):
    """交接班: what the outgoing person hands to the next one."""

    department = models.ForeignKey(
        "portal.Department", verbose_name=_("部门"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="handover_notes",
    )
    author = models.ForeignKey("portal.User", verbose_name=_("交班人"), on_delete=models.PROTECT)
    text = models.TextField(_("交接内容"))
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("交接班记录")
        verbose_name_plural = _("交接班记录")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.author} {timezone.localtime(self.created_at):%m-%d %H:%M}"


class Status(models.TextChoices):
    REPORTED = "reported", _("已上报")
    ACKNOWLEDGED = "acknowledged", _("已响应")
    HANDLING = "handling", _("处置中")
    CONTROLLED = "controlled", _("已控制")
    RECOVERED = "recovered", _("已恢复")
    REVIEWED = "reviewed", _("已复盘")


OPEN_STATUSES = [Status.REPORTED, Status.ACKNOWLEDGED, Status.HANDLING, Status.CONTROLLED]


class EmergencyQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATUSES)

    def visible_to(self, user):
        from portal.models import Role

        if not user.is_authenticated:
            return self.none()
        if user.is_superuser or user.roles.filter(code__in=[Role.GENERAL_MANAGER, Role.COORDINATOR]).exists():
            return self
        from portal.models import Department

        # Subqueries, not lists: one query for the whole check.
        led = Department.objects.led_by(user).values("pk")
        cond = Q(reporter=user) | Q(paged__user=user) | Q(departments__in=led) | Q(site__in=led)
        if user.department_id:
            cond |= Q(departments=user.department_id) | Q(site=user.department_id)
        return self.filter(pk__in=self.model.objects.filter(cond).values("pk"))


class Emergency(models.Model):
    number = models.CharField(_("编号"), max_length=40, unique=True)
    idempotency_key = models.CharField(max_length=64, unique=True, editable=False)
    event_type = models.ForeignKey(EmergencyType, verbose_name=_("类型"), on_delete=models.PROTECT)
    grade = models.CharField(_("等级"), max_length=10, choices=Grade.choices, default=Grade.GENERAL)
    site = models.ForeignKey(
        "portal.Department", verbose_name=_("项目/管理处"), on_delete=models.PROTECT, related_name="emergencies_at"
    )
    location = models.CharField(_("具体位置"), max_length=200)
    description = models.TextField(_("情况描述"), blank=True)
    reporter = models.ForeignKey(
        "portal.User", verbose_name=_("上报人"), on_delete=models.PROTECT, related_name="reported_emergencies"
    )
    departments = models.ManyToManyField(
        "portal.Department", verbose_name=_("涉及部门"), blank=True, related_name="emergencies"
    )
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.REPORTED, db_index=True)
    reported_at = models.DateTimeField(_("上报时间"), default=timezone.now, db_index=True)
    acknowledged_at = models.DateTimeField(_("响应时间"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        "portal.User", verbose_name=_("响应人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    controlled_at = models.DateTimeField(_("控制时间"), null=True, blank=True)
    recovered_at = models.DateTimeField(_("恢复时间"), null=True, blank=True)
    reviewed_at = models.DateTimeField(_("复盘时间"), null=True, blank=True)
    # The earliest due time of a milestone still open: the minute sweep reads only rows due.
    next_due_at = models.DateTimeField(null=True, blank=True, db_index=True, editable=False)

    objects = EmergencyQuerySet.as_manager()

    class Meta:
        verbose_name = _("突发事件")
        verbose_name_plural = _("突发事件")
        ordering = ["-reported_at"]

    def __str__(self):
        return f"{self.number} {self.event_type} · {self.location}"

    def get_absolute_url(self):
        return reverse("emergencies:detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def status_tag(self) -> str:
        return {
            Status.REPORTED: "danger",
            Status.ACKNOWLEDGED: "warning",
            Status.HANDLING: "warning",
            Status.CONTROLLED: "info",
        }.get(self.status, "ok")


class MilestoneKind(models.TextChoices):
    RESPOND = "respond", _("响应")
    WRITTEN = "written", _("书面报告")
    PLAN = "plan", _("处置方案")
    PROGRESS = "progress", _("进展报告")
    GM = "gm", _("控制（否则报总经理）")


class Milestone(models.Model):
    emergency = models.ForeignKey(Emergency, on_delete=models.CASCADE, related_name="milestones")
    kind = models.CharField(_("节点"), max_length=20, choices=MilestoneKind.choices)
    seq = models.PositiveIntegerField(_("序号"), default=1)
    due_at = models.DateTimeField(_("时限"))
    met_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    met_by = models.ForeignKey("portal.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    missed_at = models.DateTimeField(_("超时时间"), null=True, blank=True)
    # 响应 only: when the on-duty people were phoned because the milestone was about to pass.
    warned_at = models.DateTimeField(_("语音提醒时间"), null=True, blank=True)
    cancelled = models.BooleanField(_("已取消"), default=False)

    class Meta:
        verbose_name = _("时限节点")
        verbose_name_plural = _("时限节点")
        ordering = ["due_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["emergency", "kind", "seq"], name="emergency_milestone_once")]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.seq}"

    @property
    def is_pending(self) -> bool:
        return self.met_at is None and self.missed_at is None and not self.cancelled

    @property
    def state_label(self) -> str:
        if self.met_at:
            late = self.met_at > self.due_at
            return str(_("已完成（超时）") if late else _("已完成"))
        if self.cancelled:
            return str(_("不再需要"))
        if self.missed_at:
            return str(_("已超时，已上报"))
        return str(_("进行中"))


class PagedPerson(models.Model):
    """Someone paged for the event: may acknowledge it and sees it in the todo list."""

    REASONS = {
        "duty": _("当班"),
        "head": _("部门负责人（无人当班）"),
        "coordinator": _("协调岗（无人当班）"),
        "leader": _("分管领导"),
        "gm": _("总经理"),
        "group": _("应急小组"),
        "escalation": _("超时上报"),
    }

    emergency = models.ForeignKey(Emergency, on_delete=models.CASCADE, related_name="paged")
    user = models.ForeignKey("portal.User", on_delete=models.CASCADE, related_name="emergency_pages")
    reason = models.CharField(max_length=20)
    department = models.ForeignKey("portal.Department", null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("呼叫对象")
        verbose_name_plural = _("呼叫对象")
        constraints = [models.UniqueConstraint(fields=["emergency", "user"], name="emergency_paged_once")]

    def __str__(self):
        return f"{self.user} · {self.reason_label}"

    @property
    def reason_label(self) -> str:
        return str(self.REASONS.get(self.reason, self.reason))


class EntryKind(models.TextChoices):
    REPORTED = "reported", _("上报")
    PAGED = "paged", _("呼叫")
    GAP = "gap", _("无人值班")
    ACKNOWLEDGED = "acknowledged", _("响应")
    WRITTEN = "written", _("书面报告")
    PLAN = "plan", _("处置方案")
    PROGRESS = "progress", _("进展")
    NOTE = "note", _("补充")
    MISSED = "missed", _("超时上报")
    STATUS = "status", _("状态变更")
    GROUP = "group", _("应急小组")
    REVIEW = "review", _("复盘")
    PHONE = "phone", _("短信/电话")


class TimelineEntry(models.Model):
    emergency = models.ForeignKey(Emergency, on_delete=models.CASCADE, related_name="entries")
    kind = models.CharField(_("类型"), max_length=20, choices=EntryKind.choices)
    actor = models.ForeignKey("portal.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField(_("内容"), blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("事件动态")
        verbose_name_plural = _("事件动态")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.text[:30]}"


class Photo(models.Model):
    """A photo of the scene, in private storage; served only to people who may see the event."""

    emergency = models.ForeignKey(Emergency, on_delete=models.CASCADE, related_name="photos")
    entry = models.ForeignKey(TimelineEntry, null=True, blank=True, on_delete=models.SET_NULL, related_name="photos")
    file = models.FileField(_("照片"), storage=private_storage, upload_to=photo_path, max_length=255)
    original_name = models.CharField(_("文件名"), max_length=255)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey("portal.User", null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("现场照片")
        verbose_name_plural = _("现场照片")

    def __str__(self):
        return self.original_name

    def get_absolute_url(self):
        return reverse("emergencies:photo", args=[self.pk])


class Review(models.Model):
    """复盘: due within 3 working days of recovery; a meeting and a corrective-action report."""

    emergency = models.OneToOneField(Emergency, on_delete=models.CASCADE, related_name="review")
    due_at = models.DateTimeField(_("复盘时限"))
    meeting_label = models.CharField(_("复盘会议"), max_length=200, blank=True)
    meeting_url = models.CharField(max_length=500, blank=True)
    matter = models.ForeignKey(
        "matters.Matter", verbose_name=_("复盘跟踪事项"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    cause = models.TextField(_("原因分析"), blank=True)
    summary = models.TextField(_("经过摘要"), blank=True)
    lessons = models.TextField(_("纠正预防措施说明"), blank=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    submitted_by = models.ForeignKey("portal.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("复盘")
        verbose_name_plural = _("复盘")

    def __str__(self):
        return f"{self.emergency.number} 复盘"


class Rectification(models.Model):
    """One 整改 measure of a review, tracked as a matter."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="rectifications")
    measure = models.CharField(_("整改措施"), max_length=200)
    owner = models.ForeignKey("portal.User", verbose_name=_("责任人"), on_delete=models.PROTECT, related_name="+")
    due_date = models.DateField(_("完成期限"))
    matter = models.ForeignKey(
        "matters.Matter", verbose_name=_("跟踪事项"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("整改措施")
        verbose_name_plural = _("整改措施")

    def __str__(self):
        return self.measure


class PhoneMessage(models.Model):
    """One SMS or voice call to one person for one event step: queued, then sent or failed."""

    QUEUED, SENT, FAILED = "queued", "sent", "failed"
    STATUSES = [(QUEUED, _("排队中")), (SENT, _("已发出")), (FAILED, _("失败"))]

    emergency = models.ForeignKey(Emergency, on_delete=models.CASCADE, related_name="phone_messages")
    user = models.ForeignKey("portal.User", on_delete=models.CASCADE, related_name="+")
    phone = models.CharField(_("号码"), max_length=30)
    channel = models.CharField(_("渠道"), max_length=10, choices=[("sms", _("短信")), ("voice", _("语音电话"))])
    event = models.CharField(max_length=60)
    params = models.JSONField(default=list)
    status = models.CharField(_("状态"), max_length=10, choices=STATUSES, default=QUEUED, db_index=True)
    backend = models.CharField(max_length=30, blank=True)
    provider_id = models.CharField(max_length=100, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(_("排队时间"), default=timezone.now)
    sent_at = models.DateTimeField(_("发出时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("短信/电话")
        verbose_name_plural = _("短信/电话")
        constraints = [
            models.UniqueConstraint(fields=["emergency", "user", "channel", "event"], name="emergency_phone_once")
        ]

    def __str__(self):
        return f"{self.get_channel_display()} {self.phone} {self.get_status_display()}"
