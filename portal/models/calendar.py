"""The working-day calendar: one row per day of every loaded year. Deadline code reads only this."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class WorkDaySource(models.TextChoices):
    OFFICIAL = "official", _("国务院安排")
    COMPANY = "company", _("公司调整")


class WorkDay(models.Model):
    date = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(_("工作日"))
    name = models.CharField(_("名称"), max_length=50, blank=True, help_text=_("例如：国庆节、调休上班、台风停工。"))
    source = models.CharField(_("来源"), max_length=20, choices=WorkDaySource.choices, default=WorkDaySource.OFFICIAL)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("更新人"), null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        verbose_name = _("工作日历")
        verbose_name_plural = _("工作日历")
        ordering = ["date"]

    def __str__(self):
        kind = _("工作日") if self.is_workday else _("休息日")
        return f"{self.date:%Y-%m-%d} {kind}{' · ' + self.name if self.name else ''}"

    @property
    def weekday_label(self) -> str:
        return "一二三四五六日"[self.date.weekday()]
