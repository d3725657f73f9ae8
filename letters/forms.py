"""The admin form of a letter: a drafter issues only in the name of a department they belong to."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wagtail.admin.forms import WagtailAdminPageForm

from portal.models import Department


def issuing_departments_for(user):
    if user is None or user.is_superuser:
        return Department.objects.active()
    ids = set(user.headed_departments.values_list("pk", flat=True))
    ids |= set(user.liaison_departments.values_list("pk", flat=True))
    ids |= set(user.supervised_departments.values_list("pk", flat=True))
    if user.department_id:
        ids.add(user.department_id)
    return Department.objects.active().filter(pk__in=ids)


class LetterPageForm(WagtailAdminPageForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.for_user
        if "issuing_department" in self.fields:
            allowed = issuing_departments_for(user)
            self.fields["issuing_department"].queryset = allowed
            if not self.instance.pk and user is not None and user.department_id and not self.initial.get("issuing_department"):
                self.initial["issuing_department"] = user.department_id
        active = Department.objects.active()
        for name in ("to_departments", "cc_departments"):
            if name in self.fields:
                self.fields[name].queryset = active
        if user is not None and "in_reply_to" in self.fields:
            from letters.models import LetterPage

            visible = LetterPage.objects.visible_to(user)
            self.fields["in_reply_to"].queryset = visible
            self.fields["corrects"].queryset = visible

    def clean(self):
        cleaned = super().clean()
        issuing = cleaned.get("issuing_department")
        to = list(cleaned.get("to_departments") or [])
        cc = list(cleaned.get("cc_departments") or [])
        if issuing and issuing in to:
            self.add_error("to_departments", _("主送部门不能包含发文部门自己。"))
        overlap = set(to) & set(cc)
        if overlap:
            self.add_error("cc_departments", _("同一部门不能既主送又抄送：%(names)s。") % {"names": "、".join(d.name for d in overlap)})
        reply_by = cleaned.get("reply_by")
        if reply_by and reply_by < timezone.localdate() and not self.instance.signed_at:
            self.add_error("reply_by", _("要求复函日期不能早于今天。"))
        return cleaned
