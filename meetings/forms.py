"""Forms of the meeting pages; the services do the domain checks, these parse and keep input."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from matters.models import Matter
from portal.models import Department, User

from .models import MeetingRoom, MeetingType

DT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


class MeetingRequestForm(forms.Form):
    mtype = forms.ModelChoiceField(MeetingType.objects.filter(is_active=True), label=_("会议类型"),
                                   error_messages={"required": _("请选择会议类型。"), "invalid_choice": _("会议类型无效。")})
    subject = forms.CharField(label=_("会议主题"), max_length=200, error_messages={"required": _("请填写会议主题。")})
    reason = forms.CharField(label=_("召开事由"), widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=5000)
    start = forms.DateTimeField(label=_("开始时间"), widget=DT, input_formats=DT_FORMATS,
                                error_messages={"required": _("请填写开始时间。"), "invalid": _("开始时间格式不对。")})
    end = forms.DateTimeField(label=_("结束时间"), widget=DT, input_formats=DT_FORMATS,
                              error_messages={"required": _("请填写结束时间。"), "invalid": _("结束时间格式不对。")})
    room = forms.ModelChoiceField(MeetingRoom.objects.filter(is_active=True), label=_("会议室"), required=False,
                                  error_messages={"invalid_choice": _("会议室无效。")})
    place = forms.CharField(label=_("其他地点"), max_length=200, required=False)
    departments = forms.ModelMultipleChoiceField(
        Department.objects.active(),
        label=_("参会部门"), required=False, widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("参会部门无效。"), "invalid_pk_value": _("参会部门无效。")})
    people = forms.ModelMultipleChoiceField(
        User.objects.filter(is_active=True), label=_("其他参会人"), required=False,
        error_messages={"invalid_choice": _("参会人 %(value)s 没有有效账号。"),
                        "invalid_pk_value": _("参会人 %(pk)s 没有有效账号。")})
    related_matters = forms.ModelMultipleChoiceField(
        Matter.objects.none(), label=_("相关事项"), required=False,
        error_messages={"invalid_choice": _("相关事项无效或您无权查看。"), "invalid_pk_value": _("相关事项无效。")})
    lead_time_reason = forms.CharField(label=_("未满提前期的理由"), widget=forms.Textarea(attrs={"rows": 2}),
                                       required=False, max_length=2000)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["related_matters"].queryset = Matter.objects.visible_to(user).open()

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] <= data["start"]:
            self.add_error("end", _("结束时间必须晚于开始时间。"))
        if not data.get("room") and not (data.get("place") or "").strip():
            self.add_error("place", _("请选择会议室或填写地点。"))
        return data


class MoveForm(forms.Form):
    start = forms.DateTimeField(label=_("新开始时间"), widget=DT, input_formats=DT_FORMATS,
                                error_messages={"required": _("请填写开始时间。"), "invalid": _("开始时间格式不对。")})
    end = forms.DateTimeField(label=_("新结束时间"), widget=DT, input_formats=DT_FORMATS,
                              error_messages={"required": _("请填写结束时间。"), "invalid": _("结束时间格式不对。")})
    room = forms.ModelChoiceField(MeetingRoom.objects.filter(is_active=True), label=_("会议室"), required=False,
                                  error_messages={"invalid_choice": _("会议室无效。")})
    place = forms.CharField(label=_("其他地点"), max_length=200, required=False)
    reason = forms.CharField(label=_("改期理由"), max_length=2000, error_messages={"required": _("请填写改期理由。")})


class DecisionRowForm(forms.Form):
    text = forms.CharField(label=_("决议"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))
    department = forms.ModelChoiceField(Department.objects.all(), label=_("责任部门"), required=False,
                                        error_messages={"invalid_choice": _("责任部门无效。")})
    person = forms.ModelChoiceField(User.objects.filter(is_active=True), label=_("责任人"), required=False,
                                    error_messages={"invalid_choice": _("责任人没有有效账号。")})
    due_date = forms.DateField(label=_("完成期限"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                               error_messages={"invalid": _("完成期限格式不对。")})

    def clean(self):
        data = super().clean()
        if (data.get("text") or "").strip():
            if not data.get("department"):
                self.add_error("department", _("请选择责任部门。"))
            if not data.get("due_date"):
                self.add_error("due_date", _("请填写完成期限。"))
        return data


DecisionFormSet = forms.formset_factory(DecisionRowForm, extra=3, max_num=50, validate_max=True)


class MinutesForm(forms.Form):
    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    summary = forms.CharField(label=_("会议概要"), widget=forms.Textarea(attrs={"rows": 4}), required=False,
                              max_length=20000)
    discussion = forms.CharField(label=_("议题讨论"), widget=forms.Textarea(attrs={"rows": 8}), required=False,
                                 max_length=20000)
