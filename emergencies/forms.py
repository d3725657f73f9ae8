"""Forms of the emergencies pages; they validate, services write."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.models import Department, DepartmentKind, User

from .models import EmergencyType, Grade


class ReportForm(forms.Form):
    event_type = forms.ModelChoiceField(
        label=_("事件类型"), queryset=EmergencyType.objects.none(), widget=forms.RadioSelect,
        error_messages={"required": _("请选择事件类型。"), "invalid_choice": _("请选择事件类型。")},
    )
    site = forms.ModelChoiceField(
        label=_("项目/管理处"), queryset=Department.objects.none(),
        error_messages={"required": _("请选择项目/管理处。"), "invalid_choice": _("请选择项目/管理处。")},
    )
    location = forms.CharField(
        label=_("具体位置"), max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("例如：3 号楼 2 号电梯"), "autocomplete": "off"}),
        error_messages={"required": _("请填写具体位置，例如“3 号楼 2 号电梯”。"),
                        "max_length": _("具体位置最多 200 字。")},
    )
    description = forms.CharField(
        label=_("情况描述"), required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("几人被困、有无受伤、已采取的措施……")}),
        error_messages={"max_length": _("情况描述最多 2000 字。")},
    )
    grade = forms.ChoiceField(label=_("等级"), choices=Grade.choices, initial=Grade.GENERAL,
                              error_messages={"invalid_choice": _("事件等级不正确。")})
    key = forms.CharField(widget=forms.HiddenInput, max_length=64,
                          error_messages={"required": _("提交标识缺失，请刷新页面后重新提交。")})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["event_type"].queryset = EmergencyType.objects.filter(is_active=True)
        self.fields["site"].queryset = Department.objects.active().order_by("-kind", "sort_order")
        self.fields["site"].label_from_instance = lambda d: d.name


def site_initial(user):
    dept = user.department
    if dept is not None and dept.kind == DepartmentKind.SITE_OFFICE:
        return dept.pk
    return None


class UpdateForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("类型"),
        choices=[("progress", _("进展")), ("written", _("书面报告")), ("plan", _("处置方案")), ("note", _("补充说明"))],
        error_messages={"required": _("请选择动态类型。"), "invalid_choice": _("请选择动态类型。")},
    )
    text = forms.CharField(label=_("内容"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3}),
                           error_messages={"max_length": _("内容最多 5000 字。")})


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=[("controlled", _("已控制")), ("recovered", _("已恢复"))],
                               error_messages={"invalid_choice": _("不能设置为该状态。"),
                                               "required": _("不能设置为该状态。")})
    text = forms.CharField(required=False, max_length=2000)


class GroupForm(forms.Form):
    members = forms.ModelMultipleChoiceField(
        label=_("应急小组成员"), queryset=User.objects.none(), widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("请选择应急小组成员。"), "invalid_choice": _("所选人员不存在。"),
                        "invalid_pk_value": _("所选人员不存在。")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = User.objects.filter(is_active=True).select_related("department")
        self.fields["members"].label_from_instance = lambda u: u.display_with_department


class ReviewForm(forms.Form):
    cause = forms.CharField(label=_("原因分析"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000,
                            error_messages={"required": _("请填写原因分析。")})
    lessons = forms.CharField(label=_("纠正预防措施说明"), required=False, max_length=5000,
                              widget=forms.Textarea(attrs={"rows": 3}))
    measures = forms.CharField(
        label=_("整改措施"), max_length=5000, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("每行一项：措施 | 责任人（用户名/工号/姓名）| 期限，例如：更换 2 号电梯门机 | eng_head | 2026-12-20"),
        error_messages={"required": _("请至少填写一项整改措施。")},
    )


class HandoverForm(forms.Form):
    department = forms.ModelChoiceField(label=_("部门"), queryset=Department.objects.none(), required=False,
                                        empty_label=_("公司级"),
                                        error_messages={"invalid_choice": _("所选部门不存在。")})
    text = forms.CharField(label=_("交接内容"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
                           error_messages={"required": _("请填写交接内容。")})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = Department.objects.active()


class RosterImportForm(forms.Form):
    file = forms.FileField(label=_("值班表（XLSX）"), error_messages={"required": _("请选择要导入的 XLSX 文件。")})


class CopyWeekForm(forms.Form):
    source = forms.DateField(label=_("复制哪一周（周一）"), widget=forms.DateInput(attrs={"type": "date"}),
                             error_messages={"required": _("请选择源周的周一。"), "invalid": _("日期格式不正确。")})
    target = forms.DateField(label=_("复制到（周一）"), widget=forms.DateInput(attrs={"type": "date"}),
                             error_messages={"required": _("请选择目标周的周一。"), "invalid": _("日期格式不正确。")})
    department = forms.ModelChoiceField(label=_("部门"), queryset=Department.objects.none(), required=False,
                                        empty_label=_("全部"), error_messages={"invalid_choice": _("所选部门不存在。")})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = Department.objects.active()


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())
