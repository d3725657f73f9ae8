"""What a letter leaves on record: number patterns and counters, receipts, the archive, fonts."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import storages
from django.db import models
from django.utils.translation import gettext_lazy as _

DEFAULT_PATTERN = "{short}函〔{year}〕{seq}号"


def private_storage():
    return storages["private"]


def format_number(pattern: str, *, short: str, year: int, seq: int) -> str:
    return pattern.format(short=short, year=year, seq=seq)


def validate_pattern(value: str) -> None:
    if "{year}" not in value or "{seq}" not in value:
        raise ValidationError(_("字号格式必须包含 {year} 和 {seq}，例如 {short}函〔{year}〕{seq}号。"))
    try:
        format_number(value, short="工程", year=2026, seq=5)
    except (KeyError, IndexError, ValueError):
        raise ValidationError(_("字号格式只能使用 {short}（部门简称）、{year}（年份）、{seq}（序号）三个占位符。"))


class LetterNumberPattern(models.Model):
    """发文字号 pattern of one department; without one the default {short}函〔{year}〕{seq}号 applies."""

    department = models.OneToOneField(
        "portal.Department", verbose_name=_("发文部门"), on_delete=models.CASCADE, related_name="letter_number_pattern"
    )
    pattern = models.CharField(
        _("字号格式"),
        max_length=60,
        default=DEFAULT_PATTERN,
        validators=[validate_pattern],
        help_text=_("占位符：{short} 部门简称，{year} 年份，{seq} 序号（不编虚位）。例如 {short}函〔{year}〕{seq}号。"),
    )

    class Meta:
        verbose_name = _("发文字号格式")
        verbose_name_plural = _("发文字号格式")

    def __str__(self):
        return f"{self.department}：{self.example}"

    @property
    def example(self) -> str:
        return format_number(self.pattern, short=self.department.short_name or self.department.name, year=2026, seq=5)


class LetterNumberCounter(models.Model):
    """The last number issued per department and year; locked and bumped inside 签发's transaction."""

    department = models.ForeignKey("portal.Department", on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("发文字号计数")
        constraints = [models.UniqueConstraint(fields=["department", "year"], name="letter_counter_per_department_year")]

    def __str__(self):
        return f"{self.department_id}/{self.year}: {self.last}"


class ReceiptKind(models.TextChoices):
    MAIN = "main", _("主送")
    COPY = "copy", _("抄送")


class LetterReceiptQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(received_at__isnull=True)

    def for_user(self, user):
        """Receipts this person may sign for: departments they head or are liaison of."""
        return self.filter(department_id__in=signing_department_ids(user) if user.is_authenticated else [])


def signing_department_ids(user) -> set[int]:
    """签收 is done by a department's head or liaison."""
    ids = set(user.headed_departments.values_list("pk", flat=True))
    ids |= set(user.liaison_departments.values_list("pk", flat=True))
    return ids


class LetterReceipt(models.Model):
    """One receiving department's 签收 of a letter (time and person)."""

    letter = models.ForeignKey("letters.LetterPage", on_delete=models.CASCADE, related_name="receipts")
    department = models.ForeignKey("portal.Department", verbose_name=_("收文部门"), on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("类别"), max_length=10, choices=ReceiptKind.choices, default=ReceiptKind.MAIN)
    delivered_at = models.DateTimeField(_("送达时间"))
    received_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("签收人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reminders = models.PositiveSmallIntegerField(_("催签次数"), default=0)
    last_reminded_at = models.DateTimeField(_("最近催签"), null=True, blank=True)

    objects = LetterReceiptQuerySet.as_manager()

    class Meta:
        verbose_name = _("签收记录")
        verbose_name_plural = _("签收记录")
        ordering = ["-kind", "department__sort_order"]
        constraints = [models.UniqueConstraint(fields=["letter", "department"], name="letter_receipt_once_per_department")]

    def __str__(self):
        return f"{self.letter_id} → {self.department}"


class ArchiveStatus(models.TextChoices):
    PENDING = "pending", _("待归档")
    DONE = "done", _("已归档")
    FAILED = "failed", _("归档失败")


class LetterArchive(models.Model):
    """The one archived PDF of a signed letter. Written once: the row is unique per letter and a
    finished archive's file, hash and size never change."""

    letter = models.OneToOneField("letters.LetterPage", on_delete=models.PROTECT, related_name="archive", verbose_name=_("函件"))
    status = models.CharField(_("状态"), max_length=10, choices=ArchiveStatus.choices, default=ArchiveStatus.PENDING)
    file = models.FileField(_("PDF 文件"), storage=private_storage, max_length=255, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    size = models.PositiveIntegerField(_("字节数"), default=0)
    pages = models.PositiveSmallIntegerField(_("页数"), default=0)
    pdf_variant = models.CharField(_("PDF 类型"), max_length=20, blank=True)
    embedded_files = models.PositiveSmallIntegerField(_("内嵌附件数"), default=0)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    error = models.TextField(_("错误"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    completed_at = models.DateTimeField(_("归档时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("函件归档")
        verbose_name_plural = _("函件归档")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="done") | (~models.Q(sha256="") & ~models.Q(file="")),
                name="letter_archive_done_has_file_and_hash",
            )
        ]

    def __str__(self):
        return f"{self.letter} ({self.get_status_display()})"

    @property
    def is_done(self) -> bool:
        return self.status == ArchiveStatus.DONE


class FontRole(models.TextChoices):
    BODY = "body", _("正文（仿宋）")
    TITLE = "title", _("标题与发文机关标志（小标宋）")
    HEADING = "heading", _("一级标题（黑体）")
    KAI = "kai", _("二级标题与签发人（楷体）")


class LetterFont(models.Model):
    """A licensed font uploaded by an administrator; it comes first in its role's font stack."""

    name = models.CharField(_("名称"), max_length=100, help_text=_("例如“仿宋_GB2312”。"))
    role = models.CharField(_("用途"), max_length=10, choices=FontRole.choices)
    file = models.FileField(
        _("字体文件"), storage=private_storage, upload_to="letters/fonts", max_length=255,
        help_text=_("TrueType / OpenType 字体（.ttf、.otf、.ttc）。请确认已获得授权。"),
    )
    priority = models.PositiveSmallIntegerField(_("优先级"), default=10, help_text=_("数字小的优先。"))
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("函件字体")
        verbose_name_plural = _("函件字体")
        ordering = ["role", "priority", "pk"]

    def __str__(self):
        return f"{self.name}（{self.get_role_display()}）"

    def clean(self):
        super().clean()
        if self.file and not self.file.name.lower().endswith((".ttf", ".otf", ".ttc", ".woff", ".woff2")):
            raise ValidationError({"file": _("请上传 .ttf、.otf、.ttc 或 .woff 字体文件。")})
        if self.file and hasattr(self.file, "file") and not getattr(self.file, "_committed", True):
            from fontTools.ttLib import TTCollection, TTFont, TTLibError

            self.file.seek(0)
            try:
                if self.file.name.lower().endswith(".ttc"):
                    TTCollection(self.file)
                else:
                    TTFont(self.file, lazy=True)
            except (TTLibError, OSError, ValueError, AssertionError):
                raise ValidationError({"file": _("无法读取该字体文件，请确认文件完整。")})
            finally:
                self.file.seek(0)

    @property
    def family(self) -> str:
        """The @font-face family name used in the PDF's CSS (unique per upload)."""
        return f"LetterFont{self.pk}"
