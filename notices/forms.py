"""The notice editor's form: checks the audience and confirmation settings together."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wagtail.admin.forms import WagtailAdminPageForm


class NoticePageForm(WagtailAdminPageForm):
    def clean(self):
        data = super().clean()
        everyone = data.get("audience_everyone")
        chosen = any(data.get(name) for name in ("audience_departments", "audience_roles", "audience_people"))
        if not everyone and not chosen:
            self.add_error(
                "audience_everyone", _("请勾选“全体员工”，或至少选择一个部门、角色或人员作为发布范围。")
            )
        if everyone and chosen:
            self.add_error(
                "audience_everyone",
                _("已勾选“全体员工”时不能再选择部门、角色或人员；如只发给部分人员，请取消勾选“全体员工”。"),
            )
        requires = data.get("requires_confirmation")
        deadline = data.get("confirm_deadline")
        if deadline and not requires:
            self.add_error("confirm_deadline", _("只有“需确认已阅”的通告才能设置确认截止时间。"))
        if data.get("reconfirm_requested") and not requires:
            self.add_error("reconfirm_requested", _("只有“需确认已阅”的通告才能要求重新确认。"))
        if deadline and deadline != self.instance.confirm_deadline and deadline <= timezone.now():
            self.add_error("confirm_deadline", _("确认截止时间不能早于现在。"))
        if data.get("reconfirm_requested") and not self.instance.version:
            # First publication starts version 1 anyway; the tick would mean nothing.
            data["reconfirm_requested"] = False
        return data


class ConfirmForm(forms.Form):
    revision = forms.IntegerField(min_value=1)
