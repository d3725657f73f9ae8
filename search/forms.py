"""The search form: query, type, department, date range, order, page."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.models import Department

from .providers import providers


class SearchForm(forms.Form):
    q = forms.CharField(label=_("关键词"), required=False, max_length=200, strip=True)
    type = forms.MultipleChoiceField(label=_("类型"), required=False, widget=forms.CheckboxSelectMultiple)
    department = forms.ModelChoiceField(
        label=_("部门"), required=False, queryset=Department.objects.none(), empty_label=_("全部部门")
    )
    date_from = forms.DateField(label=_("开始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("结束日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    order = forms.ChoiceField(
        label=_("排序"), required=False, choices=[("relevance", _("最相关")), ("newest", _("最新"))]
    )
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = [(kind, p.label) for kind, p in providers().items()]
        self.fields["department"].queryset = Department.objects.filter(is_active=True).order_by("sort_order", "name")
        self.fields["q"].widget.attrs.update(
            {"type": "search", "placeholder": _("搜索通告、函件、事项、表单……"), "autocomplete": "off", "enterkeyhint": "search"}
        )

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("结束日期不能早于开始日期。"))
        return data

    def filters(self) -> dict:
        """The filters that passed validation; a bad field is dropped, the rest still apply."""
        data = getattr(self, "cleaned_data", {})
        department = data.get("department")
        return {
            "kinds": data.get("type") or [],
            "department_id": department.pk if department else None,
            "date_from": data.get("date_from") if "date_to" not in self.errors else None,
            "date_to": data.get("date_to") if "date_to" not in self.errors else None,
            "order": data.get("order") or "relevance",
            "page": data.get("page") or 1,
        }
