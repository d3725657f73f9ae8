"""The Wagtail admin for matters: routing rules and deadline policies (snippets), the 试运行
(explain and try) view, 部门待办, the ledger with XLSX export and the monthly figures."""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from wagtail.admin.ui.tables import BooleanColumn, Column
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from portal.models import Department

from . import conditions as C
from . import routing
from .ledger import LedgerFilter, ledger_queryset, ledger_xlsx, overdue_q
from .models import Grade, Matter, is_coordinator
from .rule_models import DeadlinePolicy, RoutingRule
from .work_views import figures_context, todo_queryset


class RoutingRuleViewSet(SnippetViewSet):
    model = RoutingRule
    icon = "list-ol"
    menu_label = _l("分派规则")
    menu_name = "routing_rules"
    list_display = [
        "name",
        "sort_order",
        "form",
        "lead_department",
        "grade",
        BooleanColumn("enabled", label=_l("启用")),
        "version",
        Column("warning_text", label=_l("问题（会被跳过）")),
    ]
    list_filter = ["enabled", "grade"]
    ordering = ["is_fallback", "sort_order", "pk"]
    search_fields = ["name"]


class DeadlinePolicyViewSet(SnippetViewSet):
    model = DeadlinePolicy
    icon = "time"
    menu_label = _l("时限规则")
    menu_name = "deadline_policies"
    list_display = ["name", "unit", "accept_within", "progress_every", "resolve_normal", "resolve_important", "resolve_major"]


class RoutingGroup(SnippetViewSetGroup):
    items = (RoutingRuleViewSet, DeadlinePolicyViewSet)
    menu_icon = "list-ol"
    menu_label = _l("分派与时限")
    menu_name = "routing"
    menu_order = 260


# -- 试运行 -----------------------------------------------------------------------------------------


class TryForm(forms.Form):
    form = forms.ModelChoiceField(label=_l("表单"), queryset=None, required=False, empty_label=_l("（不指定表单）"))
    reference = forms.CharField(label=_l("用已有提交试运行：事项编号"), required=False)
    department = forms.ModelChoiceField(label=_l("提交部门（样例）"), queryset=Department.objects.all(), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from forms.models import FormPage

        self.fields["form"].queryset = FormPage.objects.order_by("path")
        page = None
        if self.is_bound:
            try:
                page = FormPage.objects.filter(pk=int(self.data.get("form") or 0)).first()
            except ValueError:
                page = None
        self.sample_fields = []
        if page is not None:
            for f in page.form_fields.all():
                if f.field_type in {"section", "attachments"}:
                    continue
                name = f"f_{f.pk}"
                hint = {"urgency": "高 / 中 / 低", "department": _("部门名称"), "departments": _("部门名称，逗号分隔"),
                        "checkbox": "是 / 否", "date": "2026-01-31"}.get(f.field_type, "")
                self.fields[name] = forms.CharField(label=f.label, required=False, help_text=hint)
                self.sample_fields.append((name, f))


def sample_value(field, text: str, names: dict[str, int]):
    text = (text or "").strip()
    if not text:
        return None
    t = field.field_type
    if t == "urgency":
        return {v: k for k, v in C.URGENCY_LABELS.items()}.get(text, text)
    if t == "checkbox":
        return text in {"是", "true", "1", "yes"}
    if t == "department":
        return {"id": names[text], "name": text} if text in names else {"id": None, "name": text}
    if t == "departments":
        return [{"id": names.get(n), "name": n} for n in C.split_values(text)]
    if t in {"checkboxes", "multiselect"}:
        return C.split_values(text)
    return text


def try_rules(request):
    """Run the rules on a past submission or a sample and show why, without changing anything."""
    form = TryForm(request.GET or None)
    result = error = inputs = None
    if request.GET.get("run") and form.is_valid():
        departments = routing.live_departments()
        names = {v: k for k, v in departments.items()}
        ref = form.cleaned_data["reference"].strip()
        if ref:
            matter = Matter.objects.filter(reference=ref).select_related("submitter_department", "source_page").first()
            if matter is None:
                error = _("没有编号为“%s”的事项。") % ref
            else:
                inputs = routing.inputs_for_matter(matter, departments=departments)
        else:
            page = form.cleaned_data["form"]
            dept = form.cleaned_data["department"]
            inputs = routing.Inputs(
                form_id=page.pk if page else None,
                form_title=page.title if page else "",
                fields={f.label.strip(): (f.field_type, sample_value(f, form.cleaned_data.get(n), names)) for n, f in form.sample_fields},
                department={"id": dept.pk, "name": dept.name} if dept else None,
                departments=departments,
            )
        if inputs is not None:
            rules = routing.load_rules(inputs.form_id)
            result = routing.decide(
                rules, inputs, coordinator_department_id=routing.coordinator_department_id(), explain=True
            )
            result.lead_name = departments.get(result.lead_department_id, _("（无）"))
            result.cooperating_names = [departments.get(i, "") for i in result.cooperating_ids]
            result.grade_label = dict(Grade.choices).get(result.grade, result.grade)
    return TemplateResponse(
        request,
        "matters/admin/try_rules.html",
        {"page_title": _("分派规则试运行"), "header_title": _("分派规则试运行"), "form": form, "result": result,
         "error": error, "inputs": inputs.as_data() if inputs else None},
    )


# -- 部门待办, ledger, figures --------------------------------------------------------------------


def admin_todo(request):
    qs = todo_queryset(request.user)
    if is_coordinator(request.user):
        qs = Matter.objects.open().exclude(status="submitted")
    qs = qs.select_related("lead_department", "handler", "source_page", "submitter").prefetch_related(
        "cooperating_departments"
    ).order_by("current_due_at", "pk")[:200]
    return TemplateResponse(
        request, "matters/admin/todo.html", {"page_title": _("部门待办"), "header_title": _("部门待办"), "matters": qs, "now": timezone.now()}
    )


def admin_ledger(request):
    form = LedgerFilter(request.GET or None)
    qs = form.filter(ledger_queryset(request.user))
    if request.GET.get("export") == "xlsx":
        response = HttpResponse(ledger_xlsx(qs[:20000]), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        response["Content-Disposition"] = f'attachment; filename="ledger-{timezone.localdate():%Y%m%d}.xlsx"'
        return response
    query = request.GET.copy()
    query.pop("export", None)
    return TemplateResponse(
        request,
        "matters/admin/ledger.html",
        {"page_title": _("事项台账"), "header_title": _("事项台账"), "filter": form, "matters": qs[:300],
         "total": qs.count(), "overdue_total": qs.filter(overdue_q()).count(), "now": timezone.now(), "query": query.urlencode()},
    )


def admin_figures(request):
    if not (is_coordinator(request.user) or request.user.is_staff):
        raise PermissionDenied(_("无权查看统计。"))
    context = figures_context(request)
    context.update({"page_title": _("按时办结统计"), "header_title": _("按时办结统计")})
    return TemplateResponse(request, "matters/admin/figures.html", context)
