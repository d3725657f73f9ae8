"""Meetings: types (series), rooms, meetings with participants and agenda, sign-in, minutes with
department sign-off and read receipts, decisions tracked as matters, calendar feed tokens."""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.models import Department, Role


class Approver(models.TextChoices):
    LEADER = "leader", _("分管领导")
    COORDINATOR = "coordinator", _("协调岗")
    CHAIR = "chair", _("主持人")


class MeetingRoom(models.Model):
    name = models.CharField(_("名称"), max_length=80, unique=True)
    location = models.CharField(_("位置"), max_length=200, blank=True)
    capacity = models.PositiveIntegerField(_("容纳人数"), null=True, blank=True)
    is_active = models.BooleanField(_("可预订"), default=True)

    class Meta:
        verbose_name = _("会议室")
        verbose_name_plural = _("会议室")
        ordering = ["name"]

    def __str__(self):
        return self.name


class MeetingType(models.Model):
    """A kind of meeting and, when it recurs, the series its meetings belong to."""

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    default_chair = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("默认主持人"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    standing_departments = models.ManyToManyField(
        Department, verbose_name=_("固定参会部门"), blank=True, related_name="+",
        help_text=_("这些部门的负责人作为参会人。"),
    )
    standing_roles = models.ManyToManyField(Role, verbose_name=_("固定参会角色"), blank=True, related_name="+")
    standing_people = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("固定参会人"), blank=True, related_name="+"
    )
    approver = models.CharField(_("审批人"), max_length=20, choices=Approver.choices, default=Approver.LEADER)
    request_lead_days = models.PositiveSmallIntegerField(_("申请提前（工作日）"), default=3)
    notice_lead_days = models.PositiveSmallIntegerField(_("通知提前（工作日）"), default=2)
    lead_time_exempt = models.BooleanField(_("不受提前期限制"), default=False, help_text=_("如紧急协调会。"))
    minutes_hours = models.PositiveSmallIntegerField(
        _("纪要时限（小时）"), default=24, help_text=_("会议结束后多少个自然小时内发布纪要。")
    )
    recur_weekday = models.PositiveSmallIntegerField(
        _("例会周几"), null=True, blank=True,
        choices=[(0, _("周一")), (1, _("周二")), (2, _("周三")), (3, _("周四")), (4, _("周五")), (5, _("周六")), (6, _("周日"))],
        help_text=_("留空表示不定期。遇非工作日顺延到下一个工作日。"),
    )
    recur_time = models.TimeField(_("例会时间"), null=True, blank=True)
    recur_minutes = models.PositiveSmallIntegerField(_("例会时长（分钟）"), default=60)
    recur_room = models.ForeignKey(
        MeetingRoom, verbose_name=_("例会会议室"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_training = models.BooleanField(_("培训（签到计入培训记录）"), default=False)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("会议类型")
        verbose_name_plural = _("会议类型")
        ordering = ["pk"]

    def __str__(self):
        return self.name


class MeetingStatus(models.TextChoices):
    REQUESTED = "requested", _("待审批")
    SCHEDULED = "scheduled", _("已安排")
    REFUSED = "refused", _("未批准")
    CANCELLED = "cancelled", _("已取消")
    HELD = "held", _("已召开")


class MeetingQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Organiser, chair, approver, participants (and delegates), people of the participating
        and requesting departments' leadership; coordinators and superusers see all."""
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        from matters.models import is_coordinator, user_department_ids

        if is_coordinator(user):
            return self.all()
        dept_ids = user_department_ids(user)
        supervised = Department.objects.filter(supervising_leader=user).values("pk")
        return self.filter(
            Q(organiser=user)
            | Q(chair=user)
            | Q(approver_user=user)
            | Q(participants__user=user)
            | Q(participants__delegate=user)
            | Q(departments__in=dept_ids)
            | Q(organiser_department__in=supervised)
        ).distinct()

    def overlapping(self, room, start, end):
        return self.filter(
            room=room, status__in=[MeetingStatus.REQUESTED, MeetingStatus.SCHEDULED], start__lt=end, end__gt=start
        )


class Meeting(models.Model):
    type = models.ForeignKey(MeetingType, verbose_name=_("会议类型"), on_delete=models.PROTECT, related_name="meetings")
    subject = models.CharField(_("会议主题"), max_length=200)
    reason = models.TextField(_("召开事由"), blank=True)
    organiser = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="organised_meetings"
    )
    organiser_department = models.ForeignKey(
        Department, verbose_name=_("申请部门"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    chair = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("主持人"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="chaired_meetings",
    )
    approver_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("审批人"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    departments = models.ManyToManyField(Department, verbose_name=_("参会部门"), blank=True, related_name="+")
    related_matters = models.ManyToManyField(
        "matters.Matter", verbose_name=_("相关事项"), blank=True, related_name="meetings"
    )
    room = models.ForeignKey(
        MeetingRoom, verbose_name=_("会议室"), null=True, blank=True, on_delete=models.PROTECT, related_name="meetings"
    )
    place = models.CharField(_("地点"), max_length=200, blank=True)
    start = models.DateTimeField(_("开始时间"), db_index=True)
    end = models.DateTimeField(_("结束时间"))
    status = models.CharField(_("状态"), max_length=20, choices=MeetingStatus.choices, default=MeetingStatus.REQUESTED)
    inside_lead_time = models.BooleanField(_("未满提前期"), default=False)
    lead_time_reason = models.TextField(_("未满提前期的理由"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("审批人"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.TextField(_("审批意见"), blank=True)
    uid = models.UUIDField(_("日历标识"), default=uuid.uuid4, unique=True, editable=False)
    sequence = models.PositiveIntegerField(_("日历版本"), default=0)
    checkin_token = models.CharField(max_length=48, default=secrets.token_urlsafe, editable=False)
    minutes_due_at = models.DateTimeField(_("纪要时限"), null=True, blank=True)
    source = models.CharField(_("来源"), max_length=40, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    objects = MeetingQuerySet.as_manager()

    class Meta:
        verbose_name = _("会议")
        verbose_name_plural = _("会议")
        ordering = ["-start", "-pk"]

    def __str__(self):
        return f"{self.type.name}：{self.subject}"

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("meetings:detail", args=[self.pk])

    @property
    def where(self) -> str:
        return self.room.name if self.room_id else self.place

    @property
    def status_tag(self) -> str:
        return {
            MeetingStatus.REQUESTED: "tag-amber",
            MeetingStatus.SCHEDULED: "tag-blue",
            MeetingStatus.REFUSED: "tag-red",
            MeetingStatus.CANCELLED: "tag-red",
            MeetingStatus.HELD: "tag-green",
        }.get(self.status, "")


class Response(models.TextChoices):
    PENDING = "pending", _("未答复")
    ATTEND = "attend", _("参加")
    LEAVE = "leave", _("请假")
    DELEGATE = "delegate", _("代参会")


class Participant(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("参会人"), on_delete=models.CASCADE, related_name="+")
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    response = models.CharField(_("答复"), max_length=10, choices=Response.choices, default=Response.PENDING)
    response_reason = models.CharField(_("请假事由"), max_length=300, blank=True)
    delegate = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("代参会人"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    responded_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    signed_in_at = models.DateTimeField(_("签到时间"), null=True, blank=True)
    signed_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sign_in_method = models.CharField(_("签到方式"), max_length=10, blank=True)

    class Meta:
        verbose_name = _("参会人")
        verbose_name_plural = _("参会人")
        constraints = [models.UniqueConstraint(fields=["meeting", "user"], name="meetings_one_participant_row")]
        ordering = ["department_id", "pk"]

    def __str__(self):
        return self.user.get_full_name()

    @property
    def is_late(self) -> bool:
        return bool(self.signed_in_at and self.signed_in_at > self.meeting.start)


class SignInRefusal(models.Model):
    """A sign-in attempt that was refused (not invited, outside the meeting), kept for the record."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="refused_sign_ins")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=200)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("被拒签到")
        verbose_name_plural = _("被拒签到")

    def __str__(self):
        return f"{self.user_id}: {self.reason}"


class AgendaItem(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda")
    title = models.CharField(_("议题"), max_length=200)
    note = models.TextField(_("说明"), blank=True)
    department = models.ForeignKey(Department, verbose_name=_("提出部门"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    matter = models.ForeignKey("matters.Matter", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    carried_decision = models.ForeignKey("meetings.Decision", null=True, blank=True, on_delete=models.SET_NULL,
                                         related_name="+")
    accepted = models.BooleanField(_("已采纳"), default=False)
    position = models.PositiveIntegerField(_("顺序"), default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("议题")
        verbose_name_plural = _("议题")
        ordering = ["position", "pk"]

    def __str__(self):
        return self.title


class MinutesStatus(models.TextChoices):
    DRAFT = "draft", _("起草中")
    SUBMITTED = "submitted", _("待会签/审批")
    PUBLISHED = "published", _("已发布")


class Minutes(models.Model):
    meeting = models.OneToOneField(Meeting, on_delete=models.CASCADE, related_name="minutes")
    status = models.CharField(_("状态"), max_length=20, choices=MinutesStatus.choices, default=MinutesStatus.DRAFT)
    summary = models.TextField(_("会议概要"), blank=True)
    discussion = models.TextField(_("议题讨论"), blank=True)
    attendees_text = models.TextField(_("出席"), blank=True)
    absentees_text = models.TextField(_("缺席"), blank=True)
    revision = models.PositiveIntegerField(default=0, help_text="Optimistic lock: bumped by every save.")
    version = models.PositiveIntegerField(_("版本"), default=1)
    correction_note = models.TextField(_("更正说明"), blank=True)
    written_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    overdue_reported_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("会议纪要")
        verbose_name_plural = _("会议纪要")

    def __str__(self):
        return _("%s 纪要") % self.meeting.subject


class MinutesSignoff(models.Model):
    """A participating department's sign-off (会签) of the minutes, per version."""

    minutes = models.ForeignKey(Minutes, on_delete=models.CASCADE, related_name="signoffs")
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="+")
    version = models.PositiveIntegerField(default=1)
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    signed_at = models.DateTimeField(null=True, blank=True)
    remark = models.CharField(_("会签意见"), max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["minutes", "department", "version"], name="meetings_one_signoff")
        ]

    def __str__(self):
        return f"{self.department} v{self.version}"


class MinutesReceipt(models.Model):
    """已阅: a participant confirmed reading this version of the published minutes."""

    minutes = models.ForeignKey(Minutes, on_delete=models.CASCADE, related_name="receipts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    version = models.PositiveIntegerField()
    confirmed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["minutes", "user", "version"], name="meetings_one_receipt")
        ]

    def __str__(self):
        return f"{self.user_id} v{self.version}"


class DecisionState(models.TextChoices):
    OPEN = "open", _("办理中")
    DONE = "done", _("已完成")


class DecisionQuerySet(models.QuerySet):
    def visible_to(self, user):
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        from matters.models import is_coordinator, user_department_ids

        if is_coordinator(user):
            return self.all()
        dept_ids = user_department_ids(user)
        supervised = Department.objects.filter(supervising_leader=user).values("pk")
        return self.filter(
            Q(responsible_person=user)
            | Q(responsible_department__in=dept_ids)
            | Q(responsible_department__in=supervised)
            | Q(meeting__in=Meeting.objects.visible_to(user).values("pk"))
        )

    def open(self):
        return self.filter(state=DecisionState.OPEN)


class Decision(models.Model):
    """决议: one row of the minutes; on publication it becomes a tracked matter."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="decisions")
    text = models.TextField(_("决议内容"))
    responsible_department = models.ForeignKey(
        Department, verbose_name=_("责任部门"), on_delete=models.PROTECT, related_name="meeting_decisions"
    )
    responsible_person = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("责任人"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="meeting_decisions",
    )
    due_date = models.DateField(_("完成期限"), db_index=True)
    position = models.PositiveIntegerField(default=0)
    state = models.CharField(_("状态"), max_length=10, choices=DecisionState.choices, default=DecisionState.OPEN,
                             db_index=True)
    matter = models.OneToOneField("matters.Matter", verbose_name=_("督办事项"), null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="meeting_decision")
    result = models.TextField(_("完成情况"), blank=True)
    closed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    escalated_at = models.DateTimeField(_("上报分管领导时间"), null=True, blank=True)
    overdue_reason = models.TextField(_("逾期原因"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = DecisionQuerySet.as_manager()

    class Meta:
        verbose_name = _("决议")
        verbose_name_plural = _("决议")
        ordering = ["due_date", "pk"]
        indexes = [models.Index(fields=["state", "due_date"])]

    def __str__(self):
        return self.text[:60]

    def is_overdue_on(self, day) -> bool:
        return self.state == DecisionState.OPEN and self.due_date < day

    @property
    def is_overdue(self) -> bool:
        return self.is_overdue_on(timezone.localdate())


class CalendarFeed(models.Model):
    """A person's secret calendar subscription URL; revoking issues a new token."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="meeting_feed")
    token = models.CharField(max_length=64, unique=True, default=secrets.token_urlsafe)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return str(self.user)
