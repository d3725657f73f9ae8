"""Routing rules and deadline policies, edited by administrators in the Wagtail admin.

A ``RoutingRule`` belongs to one form (or to every form), has ordered conditions and says where
a matching submission goes. Rules are tried in ``sort_order``; the first match decides. One
fallback rule (to the coordinator) always exists and always matches last.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel
from wagtail.models import Orderable

from modelcluster.fields import ParentalKey, ParentalManyToManyField
from modelcluster.models import ClusterableModel

from portal.models import Department

from .conditions import OPERATOR_CHOICES
from .deadlines import CLOCK, WORKDAYS
from .models import Grade

AMOUNT = {"max_digits": 6, "decimal_places": 2, "validators": [MinValueValidator(Decimal("0"))]}


class FieldLabelInput(forms.TextInput):
    """A text input offering the labels of the forms' fields (a datalist): editors pick a field
    by its label; the rule is still checked against its own form when saved."""

    def __init__(self, *args, department_only: bool = False, **kwargs):
        self.department_only = department_only
        super().__init__(*args, **kwargs)

    def render(self, name, value, attrs=None, renderer=None):
        from .conditions import SUBMITTER_DEPARTMENT
        from .routing import form_field_types

        list_id = f"{(attrs or {}).get('id') or name}-labels"
        attrs = {**(attrs or {}), "list": list_id, "autocomplete": "off"}
        types = form_field_types(None)
        labels = sorted(
            label for label, t in types.items() if not self.department_only or t & {"department", "departments"}
        )
        if not self.department_only:
            labels.insert(0, SUBMITTER_DEPARTMENT)
        options = format_html_join("", '<option value="{}">', ((label,) for label in labels))
        return format_html('{}<datalist id="{}">{}</datalist>', super().render(name, value, attrs, renderer), list_id, options)


class DeadlinePolicy(models.Model):
    """时限规则: how long each stage may take, and when reminders and escalations go out."""

    UNIT_CHOICES = [(WORKDAYS, _("工作日")), (CLOCK, _("钟点（小时，不看日历，用于紧急情况）"))]

    name = models.CharField(_("名称"), max_length=100, unique=True)
    unit = models.CharField(_("计时单位"), max_length=10, choices=UNIT_CHOICES, default=WORKDAYS)
    accept_within = models.DecimalField(_("受理时限"), default=Decimal("1"), **AMOUNT)
    progress_every = models.DecimalField(_("进度更新间隔"), default=Decimal("2"), **AMOUNT)
    progress_every_urgent = models.DecimalField(
        _("紧急程度为“高”时的进度更新间隔"), default=Decimal("1"), **AMOUNT
    )
    resolve_normal = models.DecimalField(_("办结时限：一般"), default=Decimal("1"), **AMOUNT)
    resolve_important = models.DecimalField(_("办结时限：重要"), default=Decimal("3"), **AMOUNT)
    resolve_major = models.DecimalField(_("办结时限：重大"), default=Decimal("3"), **AMOUNT)
    confirm_within = models.DecimalField(
        _("提交人确认时限（工作日）"), default=Decimal("3"), **AMOUNT, help_text=_("总按工作日计。")
    )
    auto_confirm = models.BooleanField(_("逾期未确认自动确认"), default=True)
    auto_confirm_note = models.CharField(
        _("自动确认说明"), max_length=200, default="提交人逾期未确认，系统按规定自动确认办结。"
    )
    remind_before_hours = models.DecimalField(
        _("到期前提醒（小时）"),
        default=Decimal("4"),
        **AMOUNT,
        help_text=_("工作日规则按工作小时计，钟点规则按钟点计。0 表示不提前提醒。"),
    )
    escalate_leader_after = models.DecimalField(
        _("逾期后上报分管领导"), default=Decimal("1"), **AMOUNT, help_text=_("逾期多久后上报分管领导（本规则的单位）。")
    )
    escalate_gm_after = models.DecimalField(
        _("逾期后上报总经理"), default=Decimal("3"), **AMOUNT, help_text=_("逾期多久后上报总经理（本规则的单位）。")
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    panels = [
        FieldRowPanel([FieldPanel("name"), FieldPanel("unit")]),
        MultiFieldPanel(
            [
                FieldPanel("accept_within"),
                FieldRowPanel([FieldPanel("progress_every"), FieldPanel("progress_every_urgent")]),
                FieldRowPanel([FieldPanel("resolve_normal"), FieldPanel("resolve_important"), FieldPanel("resolve_major")]),
            ],
            heading=_("时限"),
        ),
        MultiFieldPanel(
            [FieldPanel("confirm_within"), FieldRowPanel([FieldPanel("auto_confirm"), FieldPanel("auto_confirm_note")])],
            heading=_("闭环确认"),
        ),
        MultiFieldPanel(
            [FieldPanel("remind_before_hours"), FieldRowPanel([FieldPanel("escalate_leader_after"), FieldPanel("escalate_gm_after")])],
            heading=_("提醒与上报"),
        ),
    ]

    class Meta:
        verbose_name = _("时限规则")
        verbose_name_plural = _("时限规则")
        ordering = ["name"]

    def __str__(self):
        return f"{self.name}（{self.get_unit_display()}）"

    def resolve_for(self, grade: str) -> Decimal:
        return {Grade.IMPORTANT: self.resolve_important, Grade.MAJOR: self.resolve_major}.get(grade, self.resolve_normal)

    def clean(self):
        if self.accept_within is not None and self.accept_within <= 0:
            raise ValidationError({"accept_within": _("受理时限必须大于 0。")})
        for name in ("progress_every", "progress_every_urgent", "resolve_normal", "resolve_important", "resolve_major"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValidationError({name: _("时限必须大于 0。")})
        if (
            self.escalate_leader_after is not None
            and self.escalate_gm_after is not None
            and self.escalate_gm_after < self.escalate_leader_after
        ):
            raise ValidationError({"escalate_gm_after": _("上报总经理不能早于上报分管领导。")})


class RuleQuerySet(models.QuerySet):
    def active(self):
        return self.filter(enabled=True)

    def for_form(self, page_id):
        return self.filter(models.Q(form_id=page_id) | models.Q(form__isnull=True))


class RoutingRule(ClusterableModel):
    """分派规则: if the conditions hold, the lead department, copies, grade and time limits."""

    MATCH_CHOICES = [("all", _("全部条件都满足")), ("any", _("任一条件满足"))]

    name = models.CharField(_("规则名称"), max_length=100)
    sort_order = models.IntegerField(_("顺序"), default=100, help_text=_("小的先试；第一条匹配的规则生效。"))
    enabled = models.BooleanField(_("启用"), default=True)
    form = models.ForeignKey(
        "forms.FormPage",
        verbose_name=_("适用表单"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("留空表示适用于所有表单。"),
    )
    match = models.CharField(
        _("条件组合"),
        max_length=3,
        choices=MATCH_CHOICES,
        default="all",
        help_text=_(
            "没有条件的规则总是匹配。条件的“分组”填同一个非 0 数字时，这几条作为一组："
            "选“全部满足”时组内任一满足即可；选“任一满足”时组内须全部满足。"
        ),
    )
    lead_department = models.ForeignKey(
        Department,
        verbose_name=_("牵头部门"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    lead_from_field = models.CharField(
        _("或：牵头部门取自字段"), max_length=255, blank=True, help_text=_("填写表单中“部门”字段的标签，例如 牵头部门。")
    )
    cooperating_departments = ParentalManyToManyField(
        Department, verbose_name=_("配合部门"), blank=True, related_name="+"
    )
    cooperating_from_field = models.CharField(
        _("配合部门另取自字段"), max_length=255, blank=True, help_text=_("部门字段的标签，例如 所需配合部门。")
    )
    copy_supervising_leader = models.BooleanField(_("抄送牵头部门的分管领导"), default=False)
    copy_coordinator = models.BooleanField(_("抄送协调岗"), default=False)
    grade = models.CharField(_("等级"), max_length=10, choices=Grade.choices, default=Grade.NORMAL)
    policy = models.ForeignKey(
        DeadlinePolicy,
        verbose_name=_("时限规则"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rules",
        help_text=_("留空则用第一条时限规则。"),
    )
    is_fallback = models.BooleanField(_("兜底规则"), default=False, editable=False)
    version = models.PositiveIntegerField(_("版本"), default=0, editable=False)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now, editable=False)

    objects = RuleQuerySet.as_manager()

    panels = [
        FieldRowPanel([FieldPanel("name"), FieldPanel("sort_order"), FieldPanel("enabled")]),
        FieldPanel("form"),
        MultiFieldPanel(
            [FieldPanel("match"), InlinePanel("conditions", label=_("条件"))],
            heading=_("条件（留空表示总是匹配）"),
        ),
        MultiFieldPanel(
            [
                FieldRowPanel(
                    [
                        FieldPanel("lead_department"),
                        FieldPanel("lead_from_field", widget=FieldLabelInput(department_only=True)),
                    ]
                ),
                FieldPanel("cooperating_departments"),
                FieldPanel("cooperating_from_field", widget=FieldLabelInput(department_only=True)),
                FieldRowPanel([FieldPanel("copy_supervising_leader"), FieldPanel("copy_coordinator")]),
                FieldRowPanel([FieldPanel("grade"), FieldPanel("policy")]),
            ],
            heading=_("分派到"),
        ),
    ]

    class Meta:
        verbose_name = _("分派规则")
        verbose_name_plural = _("分派规则")
        ordering = ["is_fallback", "sort_order", "pk"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.version = (self.version or 0) + 1
        self.updated_at = timezone.now()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.is_fallback:
            raise ValidationError(_("兜底规则不能删除：没有规则匹配时，事项由它交给协调岗。"))
        return super().delete(*args, **kwargs)

    @property
    def warnings(self) -> list[str]:
        from .routing import rule_warnings

        return rule_warnings(self)

    def warning_text(self) -> str:
        warnings = self.warnings
        return "⚠ " + "；".join(warnings) if warnings else "—"

    warning_text.short_description = _("问题")


class RuleCondition(Orderable):
    rule = ParentalKey(RoutingRule, on_delete=models.CASCADE, related_name="conditions")
    field_label = models.CharField(
        _("字段"), max_length=255, help_text=_("表单中字段的标签，例如 紧急程度；或填“提交部门”。")
    )
    operator = models.CharField(_("条件"), max_length=12, choices=OPERATOR_CHOICES, default="eq")
    value = models.CharField(
        _("值"),
        max_length=500,
        blank=True,
        help_text=_("多个值用逗号分隔；日期写 2026-01-31；日期区间写 2026-01-01~2026-03-31；部门写名称。"),
    )
    group = models.PositiveSmallIntegerField(_("分组"), default=0)

    panels = [
        FieldRowPanel(
            [
                FieldPanel("field_label", widget=FieldLabelInput()),
                FieldPanel("operator"),
                FieldPanel("value"),
                FieldPanel("group"),
            ]
        )
    ]

    class Meta(Orderable.Meta):
        verbose_name = _("条件")
        verbose_name_plural = _("条件")

    def __str__(self):
        return f"{self.field_label} {self.get_operator_display()} {self.value}".strip()


class RuleAdminForm(WagtailAdminModelForm):
    """Checks a rule against its form when it is saved: every condition's field exists and the
    operator fits its type; the lead department is set or taken from a department field."""

    def clean(self):
        from .routing import condition_error, department_field_error, form_field_types

        cleaned = super().clean()
        form_page = cleaned.get("form")
        form_id = form_page.pk if form_page else None
        types = form_field_types(form_id)
        formset = self.formsets.get("conditions")
        if formset is not None:
            for sub in formset.forms:
                if not sub.is_valid() or sub.cleaned_data.get("DELETE") or not sub.cleaned_data:
                    continue
                d = sub.cleaned_data
                error = condition_error(form_id, d.get("field_label"), d.get("operator"), d.get("value", ""), types)
                if error:
                    sub.add_error("field_label" if "没有标签为" in error else "value", error)
        if self.instance.is_fallback:
            return cleaned
        lead_field = (cleaned.get("lead_from_field") or "").strip()
        if not cleaned.get("lead_department") and not lead_field:
            self.add_error("lead_department", _("请选择牵头部门，或填写取牵头部门的字段。"))
        for name in ("lead_from_field", "cooperating_from_field"):
            label = (cleaned.get(name) or "").strip()
            if label:
                error = department_field_error(form_id, label, types)
                if error:
                    self.add_error(name, error)
        return cleaned


RoutingRule.base_form_class = RuleAdminForm
