"""Notification records, personal channel choices, department group robots and worker bookkeeping.

A ``Notification`` is one message to one target on one channel for one event: a person's inbox
or mailbox, or a department's group robot. The unique constraints on (target, channel, event_key)
are what make an event reach each target once, even with two concurrent senders.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    INBOX = "inbox", _("站内信")
    EMAIL = "email", _("邮件")
    ROBOT = "robot", _("群机器人")


class Status(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENDING = "sending", _("发送中")
    RETRYING = "retrying", _("等待重试")
    SENT = "sent", _("已送达")
    FAILED = "failed", _("发送失败")


class NotificationQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(recipient=user, channel=Channel.INBOX)

    def unread(self):
        return self.filter(read_at__isnull=True)

    def failed(self):
        return self.filter(status=Status.FAILED)

    def due_for_retry(self, now=None):
        now = now or timezone.now()
        return self.filter(status__in=[Status.PENDING, Status.RETRYING], next_attempt_at__lte=now)


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        on_delete=models.CASCADE,
        related_name="notifications",
        null=True,
        blank=True,
    )
    robot = models.ForeignKey(
        "notifications.GroupRobot",
        verbose_name=_("群机器人"),
        on_delete=models.CASCADE,
        related_name="deliveries",
        null=True,
        blank=True,
    )
    channel = models.CharField(_("渠道"), max_length=20, choices=Channel.choices, default=Channel.INBOX)
    kind = models.CharField(_("类别"), max_length=50)
    event_key = models.CharField(_("事件键"), max_length=200, help_text=_("同一事件对同一人同一渠道只发一次。"))
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    url = models.CharField(_("链接"), max_length=500, blank=True)
    data = models.JSONField(_("结构化内容"), default=dict, blank=True)
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    last_error = models.TextField(_("最近错误"), blank=True)
    next_attempt_at = models.DateTimeField(_("下次尝试"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("开始发送"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "channel", "event_key"], name="notification_once_per_event"),
            models.UniqueConstraint(
                fields=["robot", "event_key"],
                condition=Q(robot__isnull=False),
                name="notification_robot_once_per_event",
            ),
            models.CheckConstraint(
                condition=(Q(recipient__isnull=False) & Q(robot__isnull=True))
                | (Q(recipient__isnull=True) & Q(robot__isnull=False) & Q(channel="robot")),
                name="notification_one_target",
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "channel", "read_at"]),
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["event_key"]),
        ]

    def __str__(self):
        return self.title

    @property
    def target_label(self) -> str:
        if self.robot_id:
            return str(self.robot)
        return self.recipient.get_full_name() if self.recipient_id else ""


class NotificationPreference(models.Model):
    """A person's channels for one kind. No row means the defaults: inbox and email on."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(_("类别"), max_length=50)
    inbox = models.BooleanField(_("站内信"), default=True)
    email = models.BooleanField(_("邮件"), default=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("通知偏好")
        verbose_name_plural = _("通知偏好")
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="notification_preference_once")]

    def __str__(self):
        return f"{self.user} · {self.kind}"


class RobotProvider(models.TextChoices):
    WECOM = "wecom", _("企业微信群机器人")
    DINGTALK = "dingtalk", _("钉钉群机器人")


class GroupRobot(models.Model):
    """A department's group-chat robot (企业微信 / 钉钉): posts the kinds of events it is set up for."""

    department = models.ForeignKey(
        "portal.Department", verbose_name=_("部门"), on_delete=models.CASCADE, related_name="group_robots"
    )
    name = models.CharField(_("名称"), max_length=100, help_text=_("例如：工程部工作群"))
    provider = models.CharField(_("平台"), max_length=20, choices=RobotProvider.choices)
    webhook_url = models.URLField(
        _("Webhook 地址"),
        max_length=500,
        help_text=_("群设置 → 群机器人 → 添加机器人后复制的 Webhook 地址（仅限 http/https）。"),
    )
    secret = models.CharField(
        _("加签密钥"),
        max_length=200,
        blank=True,
        help_text=_("钉钉机器人“安全设置 → 加签”的密钥（SEC 开头）；企业微信无需填写。"),
    )
    kinds = models.JSONField(_("推送的通知类别"), default=list, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("群机器人")
        verbose_name_plural = _("群机器人")
        ordering = ["department__sort_order", "name"]

    def __str__(self):
        return f"{self.department} · {self.name}"

    def clean(self):
        from .webhooks import validate_webhook_url

        super().clean()
        if self.webhook_url:
            try:
                validate_webhook_url(self.webhook_url)
            except ValidationError as exc:
                raise ValidationError({"webhook_url": exc.messages})

    def save(self, *args, **kwargs):
        # Validated on every save, not only in forms: a robot is a way out of the network.
        from .webhooks import validate_webhook_url

        validate_webhook_url(self.webhook_url)
        super().save(*args, **kwargs)


class TaskLock(models.Model):
    """A lease that keeps a sweep from overlapping itself across workers and machines."""

    name = models.CharField(max_length=100, primary_key=True)
    owner = models.CharField(max_length=100, blank=True)
    locked_until = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("任务锁")
        verbose_name_plural = _("任务锁")

    def __str__(self):
        return self.name


class WorkerHeartbeat(models.Model):
    """Written by a one-minute schedule: proof that a worker picks up and runs tasks."""

    cluster = models.CharField(_("集群"), max_length=100, primary_key=True)
    beat_at = models.DateTimeField(_("最近心跳"))
    host = models.CharField(_("主机"), max_length=200, blank=True)
    pid = models.IntegerField(_("进程号"), null=True, blank=True)

    class Meta:
        verbose_name = _("后台任务心跳")
        verbose_name_plural = _("后台任务心跳")

    def __str__(self):
        return f"{self.cluster} @ {self.beat_at:%Y-%m-%d %H:%M:%S}"
