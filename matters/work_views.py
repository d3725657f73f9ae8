"""Front-end views for handling matters: 部门待办, the actions on a matter, 台账 and 统计."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_POST

from portal.models import Department, User

from . import lifecycle
from .ledger import LedgerFilter, chart, ledger_queryset, ledger_xlsx, monthly_figures, overdue_q
from .models import Matter, is_coordinator, user_department_ids
from .services import MatterActionError, NotAllowed

# -- action forms ---------------------------------------------------------------------------------


class AcceptForm(forms.Form):
    handler = forms.ModelChoiceField(label=_l("经办人"), queryset=User.objects.none())
    commitment_date = forms.DateField(label=_l("承诺办结日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    text = forms.CharField(label=_l("受理意见"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, matter=None, **kwargs):
        super().__init__(*args, **kwargs)
        if matter is not None and matter.lead_department_id:
            dept = matter.lead_department_id
            self.fields["handler"].queryset = (
                User.objects.filter(Q(department_id=dept) | Q(headed_departments=dept) | Q(liaison_departments=dept), is_active=True)
                .distinct()
                .order_by("pk")
            )


class TextForm(forms.Form):
    text = forms.CharField(label=_l("内容"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)


class ReassignForm(forms.Form):
    department = forms.ModelChoiceField(label=_l("改派给"), queryset=Department.objects.filter(is_active=True))
    text = forms.CharField(label=_l("改派原因"), widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)


ACTION_LABELS = {
    "accept": _l("受理"),
    "progress": _l("更新进度"),
    "resolve": _l("办结"),
    "confirm": _l("确认办结"),
    "return": _l("退回重办"),
    "reassign": _l("改派"),
    "escalate": _l("上报"),
    "cooperate": _l("填写配合情况"),
    "pause": _l("请提交人补充"),
    "resume": _l("恢复计时"),
    "supplement": _l("补充说明"),
    "archive": _l("归档"),
    "route": _l("按规则分派"),
}
TEXT_LABELS = {
    "progress": _l("进度情况"),
    "resolve": _l("办结报告"),
    "confirm": _l("确认意见（可不填）"),
    "return": _l("退回原因"),
    "escalate": _l("上报原因"),
    "cooperate": _l("配合情况"),
    "pause": _l("需要补充的内容"),
    "resume": _l("说明（可不填）"),
    "supplement": _l("补充说明"),
}
OPTIONAL_TEXT = {"confirm", "resume"}


def action_form(action: str, matter, data=None):
    if action == "accept":
        return AcceptForm(data, matter=matter, prefix=action)
    if action == "reassign":
        form = ReassignForm(data, prefix=action)
        form.fields["department"].queryset = Department.objects.filter(is_active=True).exclude(pk=matter.lead_department_id)
        return form
    if action in {"archive", "route"}:
        return forms.Form(data, prefix=action)
    form = TextForm(data, prefix=action)
    form.fields["text"].label = TEXT_LABELS.get(action, _l("内容"))
    form.fields["text"].required = action not in OPTIONAL_TEXT
    return form


def perform(action: str, matter, user, cleaned: dict):
    text = cleaned.get("text", "")
    if action == "accept":
        return lifecycle.accept(matter, user, handler=cleaned["handler"], commitment_date=cleaned.get("commitment_date"), text=text)
    if action == "reassign":
        return lifecycle.reassign(matter, user, cleaned["department"], text)
    simple = {
        "progress": lifecycle.add_progress,
        "resolve": lifecycle.resolve,
        "return": lifecycle.return_matter,
        "escalate": lifecycle.escalate,
        "cooperate": lifecycle.cooperate,
        "pause": lifecycle.pause_for_submitter,
    }
    if action in simple:
        return simple[action](matter, user, text)
    if action == "confirm":
        return lifecycle.confirm(matter, user, text)
    if action in {"resume", "supplement"}:
        return lifecycle.resume(matter, user, text, action=action)
    if action == "archive":
        return lifecycle.archive(matter, user)
    if action == "route":
        if not is_coordinator(user):
            raise NotAllowed(_("只有协调岗可以手动分派。"))
        return lifecycle.route_matter(matter, actor=user)
    raise Http404(_("未知的操作。"))


def detail_panel(request, matter) -> dict:
    """The deadlines, 'why this came to us' and the action forms on the matter page."""
    allowed = lifecycle.allowed_actions(matter, request.user)
    order = ["accept", "progress", "resolve", "confirm", "return", "supplement", "cooperate", "pause", "resume", "reassign", "escalate", "archive", "route"]
    return {
        "template": "matters/panels/handling.html",
        "order": 10,
        "deadlines": lifecycle.deadline_rows(matter),
        "routing": matter.routing_data or {},
        "overdue": matter.is_overdue_at(timezone.now()),
        "actions": [
            {"name": a, "label": ACTION_LABELS[a], "form": action_form(a, matter)} for a in order if a in allowed
        ],
    }


@require_POST
def act(request, pk, action):
    if action not in ACTION_LABELS:
        raise Http404(_("未知的操作。"))
    matter = Matter.objects.visible_to(request.user).filter(pk=pk).first()
    if matter is None:
        # Someone who cannot even see the matter has no right to act on it.
        if Matter.objects.filter(pk=pk).exists():
            raise PermissionDenied(_("您无权处理此事项。"))
        raise Http404(_("事项不存在。"))
    form = action_form(action, matter, request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(matter.get_absolute_url() + "#handling")
    try:
        perform(action, matter, request.user, form.cleaned_data)
    except NotAllowed:
        raise
    except MatterActionError as exc:
        messages.error(request, str(exc))
        return redirect(matter.get_absolute_url() + "#handling")
    messages.success(request, _("已%s。") % ACTION_LABELS[action])
    return redirect(matter.get_absolute_url() + "#handling")


# -- 部门待办 ------------------------------------------------------------------------------------


def todo_queryset(user):
    """Open matters waiting on the person or their departments (as lead, handler or cooperator)."""
    ids = user_department_ids(user)
    return (
        Matter.objects.open()
        .exclude(status="submitted")
        .filter(Q(lead_department_id__in=ids) | Q(handler=user) | Q(cooperating_departments__in=ids))
        .distinct()
    )


def todo(request):
    qs = todo_queryset(request.user).select_related("lead_department", "handler", "source_page", "submitter")
    if is_coordinator(request.user) and request.GET.get("scope") == "all":
        qs = Matter.objects.open().select_related("lead_department", "handler", "source_page", "submitter")
    qs = qs.order_by("paused_at", "current_due_at", "pk")
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "matters/todo.html",
        {
            "title": _("部门待办"),
            "page_obj": page,
            "matters": page.object_list,
            "now": timezone.now(),
            "is_coordinator": is_coordinator(request.user),
            "scope": request.GET.get("scope", ""),
        },
    )


# -- 台账 and 统计 -------------------------------------------------------------------------------


def ledger(request):
    form = LedgerFilter(request.GET or None)
    qs = form.filter(ledger_queryset(request.user))
    if request.GET.get("export") == "xlsx":
        response = HttpResponse(
            ledger_xlsx(qs[:20000]), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        response["Content-Disposition"] = f'attachment; filename="ledger-{timezone.localdate():%Y%m%d}.xlsx"'
        return response
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "matters/ledger.html",
        {
            "title": _("事项台账"),
            "filter": form,
            "page_obj": page,
            "matters": page.object_list,
            "now": timezone.now(),
            "query": query.urlencode(),
            "overdue_total": qs.filter(overdue_q()).count(),
        },
    )


def parse_month(value: str | None) -> tuple[int, int]:
    today = timezone.localdate()
    try:
        year, month = (int(x) for x in (value or "").split("-"))
        dt.date(year, month, 1)
        return year, month
    except ValueError:
        return today.year, today.month


def figures_context(request) -> dict:
    year, month = parse_month(request.GET.get("month"))
    rows = monthly_figures(year, month)
    return {"title": _("按时办结统计"), "rows": rows, "chart": chart(rows), "month": f"{year:04d}-{month:02d}"}


def figures(request):
    if not (is_coordinator(request.user) or request.user.headed_departments.exists() or request.user.is_staff):
        raise PermissionDenied(_("统计仅对协调岗、部门负责人和管理员开放。"))
    return render(request, "matters/figures.html", figures_context(request))
