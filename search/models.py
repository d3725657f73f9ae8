"""The search index (one row per indexed object) and the company dictionary for jieba.

On PostgreSQL a migration adds ``tsv``, ``grams`` as a stored generated ``tsvector`` (one lexeme
per token) with a GIN index: the candidate filter of search.query. Django never writes it.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F
from django.db.models.functions import Length
from django.utils.translation import gettext_lazy as _

from .text import WORD_RUN, normalise


class SearchEntry(models.Model):
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.PositiveBigIntegerField()
    kind = models.CharField(_("类型"), max_length=32)
    title = models.CharField(_("标题"), max_length=500)
    body = models.TextField(_("正文"), blank=True)
    # Normalised copies (same length as the originals) for exact substring checks and scoring.
    norm_title = models.CharField(max_length=500)
    norm_body = models.TextField(blank=True)
    # Space-separated, with a leading and trailing space: jieba words, and the candidate tokens.
    words = models.TextField(blank=True)
    grams = models.TextField(blank=True)
    department = models.ForeignKey(
        "portal.Department", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("部门"),
    )
    date = models.DateTimeField(_("日期"))
    url = models.CharField(_("链接"), max_length=500)
    indexed_at = models.DateTimeField(_("索引时间"), auto_now=True)

    class Meta:
        verbose_name = _("搜索索引条目")
        verbose_name_plural = _("搜索索引条目")
        constraints = [
            models.UniqueConstraint(fields=["content_type", "object_id"], name="search_entry_unique_object")
        ]
        indexes = [
            models.Index(fields=["kind", "object_id"], name="search_entry_kind_obj"),
            models.Index(fields=["-date"], name="search_entry_date"),
        ]

    def __str__(self):
        return f"{self.kind}:{self.object_id} {self.title}"


class SearchTerm(models.Model):
    """A company term jieba must keep whole: a property, a place, a department, a system."""

    class Category(models.TextChoices):
        PROPERTY = "property", _("项目 / 楼盘")
        PLACE = "place", _("地名 / 位置")
        ORGANISATION = "organisation", _("部门 / 单位")
        BUSINESS = "business", _("业务术语")
        OTHER = "other", _("其他")

    word = models.CharField(
        _("词语"), max_length=40, unique=True,
        help_text=_("例如：阳光花园、滨江大厦、二次供水。不含空格。"),
    )
    category = models.CharField(_("类别"), max_length=16, choices=Category.choices, default=Category.PROPERTY)
    weight = models.PositiveIntegerField(
        _("词频"), null=True, blank=True,
        help_text=_("一般留空，系统会自动取能让该词不被切开的词频；只有需要调整切分优先级时才填写。"),
    )
    note = models.CharField(_("备注"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("搜索词典词语")
        verbose_name_plural = _("搜索词典")
        ordering = ["word"]

    def __str__(self):
        return self.word

    def clean(self):
        word = (self.word or "").strip()
        if any(ch.isspace() for ch in word):
            raise ValidationError({"word": _("词语中不能有空格。")})
        if len(word) < 2:
            raise ValidationError({"word": _("词语至少两个字。")})
        if not WORD_RUN.search(word):
            raise ValidationError({"word": _("词语需包含文字或数字。")})
        self.word = word
        # Full-width and upper-case forms are the same word to the index.
        same_length = SearchTerm.objects.exclude(pk=self.pk).annotate(n=Length("word")).filter(n=len(word))
        if any(normalise(w) == normalise(word) for w in same_length.values_list("word", flat=True)):
            raise ValidationError({"word": _("词典中已有这个词。")})


class DictionaryState(models.Model):
    """One row: the dictionary's version, so every process knows when to reload its terms."""

    version = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("搜索词典版本")

    def __str__(self):
        return f"v{self.version}"

    @classmethod
    def current(cls) -> int:
        row = cls.objects.filter(pk=1).values_list("version", flat=True).first()
        return row or 0

    @classmethod
    def bump(cls) -> None:
        if not cls.objects.filter(pk=1).update(version=F("version") + 1):
            cls.objects.get_or_create(pk=1, defaults={"version": 1})
