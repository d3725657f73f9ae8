"""Routing: which rule a submission matches, why, and what it decides.

Rules are compiled into plain snapshots (``CompiledRule``) and tried in order; the first that
matches decides. A rule that points at a field or department that no longer exists is
*broken*: it is skipped with a warning and the submission falls through to the next rule; the
fallback rule always matches, so nothing is left unrouted. ``decide`` never writes anything:
the 试运行 (explain and try) view and ``services.route_matter`` both call it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from . import conditions as C

FIELD_PREFIX = "field:"


@dataclass
class CompiledRule:
    pk: int
    name: str
    version: int
    form_id: int | None
    match: str
    conditions: list[tuple[str, str, str, int]]
    lead_department_id: int | None
    lead_from_field: str
    cooperating_ids: list[int]
    cooperating_from_field: str
    copy_leader: bool
    copy_coordinator: bool
    grade: str
    policy_id: int | None
    is_fallback: bool

    def __post_init__(self):
        # Conditions split once into singles and numbered groups (evaluation runs per submission).
        self.singles = [c for c in self.conditions if not c[3]]
        groups: dict[int, list] = {}
        for c in self.conditions:
            if c[3]:
                groups.setdefault(c[3], []).append(c)
        self.groups = list(groups.values())


@dataclass
class Decision:
    rule_id: int | None
    rule_name: str
    version: int
    lead_department_id: int | None
    cooperating_ids: list[int]
    copy_leader: bool
    copy_coordinator: bool
    grade: str
    policy_id: int | None
    reasons: list[str]
    trace: list[dict] = field(default_factory=list)

    def as_data(self) -> dict:
        return {
            "rule": self.rule_id,
            "rule_name": self.rule_name,
            "version": self.version,
            "lead_department": self.lead_department_id,
            "cooperating": self.cooperating_ids,
            "grade": self.grade,
            "policy": self.policy_id,
            "reasons": self.reasons,
            "trace": self.trace,
        }


@dataclass
class Inputs:
    """What the rules see: the form, its answers by label (type, stored value), the submitter's
    department, and the live departments (id -> name) to check references against."""

    form_id: int | None
    form_title: str
    fields: dict[str, tuple[str, object]]
    department: dict | None
    departments: dict[int, str]

    @property
    def department_names(self) -> set[str]:
        names = self.__dict__.get("_names")
        if names is None:
            names = self.__dict__["_names"] = set(self.departments.values())
        return names

    def as_data(self) -> dict:
        return {
            "form": self.form_title,
            "fields": {label: C.normalise(t, v) for label, (t, v) in self.fields.items() if t != "attachments"},
            "department": (self.department or {}).get("name", ""),
        }


def compile_rules(rules) -> list[CompiledRule]:
    compiled = []
    for r in rules:
        compiled.append(
            CompiledRule(
                pk=r.pk,
                name=r.name,
                version=r.version,
                form_id=r.form_id,
                match=r.match,
                conditions=[(c.field_label.strip(), c.operator, c.value, c.group) for c in r.conditions.all()],
                lead_department_id=r.lead_department_id,
                lead_from_field=r.lead_from_field.strip(),
                cooperating_ids=[d.pk for d in r.cooperating_departments.all()],
                cooperating_from_field=r.cooperating_from_field.strip(),
                copy_leader=r.copy_supervising_leader,
                copy_coordinator=r.copy_coordinator,
                grade=r.grade,
                policy_id=r.policy_id,
                is_fallback=r.is_fallback,
            )
        )
    return compiled


def load_rules(form_id: int | None) -> list[CompiledRule]:
    """The enabled rules for a form (its own and the all-forms ones), fallback last."""
    from .rule_models import RoutingRule

    ensure_fallback_rule()
    qs = RoutingRule.objects.active().prefetch_related("conditions", "cooperating_departments")
    qs = qs.for_form(form_id) if form_id else qs.filter(form__isnull=True)
    return compile_rules(qs.order_by("is_fallback", "sort_order", "pk"))


def live_departments() -> dict[int, str]:
    from portal.models import Department

    return dict(Department.objects.values_list("pk", "name"))


def inputs_for_submission(submission, *, departments: dict[int, str] | None = None) -> Inputs:
    from forms.models import FormField

    fields = {}
    for f in FormField.objects.filter(page_id=submission.page_id).order_by("sort_order", "pk"):
        if f.field_type == "section":
            continue
        fields[f.label.strip()] = (f.field_type, submission.form_data.get(f.clean_name))
    matter = submission.matter
    dept = matter.submitter_department
    return Inputs(
        form_id=submission.page_id,
        form_title=submission.page.title,
        fields=fields,
        department={"id": dept.pk, "name": dept.name} if dept else None,
        departments=departments if departments is not None else live_departments(),
    )


def inputs_for_matter(matter, *, departments: dict[int, str] | None = None) -> Inputs:
    submission = getattr(matter, "form_submission", None) if hasattr(matter, "form_submission") else None
    try:
        submission = matter.form_submission
    except Exception:  # noqa: BLE001 - RelatedObjectDoesNotExist: a matter opened by hand
        submission = None
    if submission is not None:
        return inputs_for_submission(submission, departments=departments)
    dept = matter.submitter_department
    return Inputs(
        form_id=matter.source_page_id,
        form_title=matter.source_page.title if matter.source_page_id else "",
        fields={},
        department={"id": dept.pk, "name": dept.name} if dept else None,
        departments=departments if departments is not None else live_departments(),
    )


class Broken(Exception):
    """The rule points at something that no longer exists: skip it, warn, fall through."""


def _subject(rule: CompiledRule, label: str, inputs: Inputs) -> tuple[str, object] | None:
    if label == C.SUBMITTER_DEPARTMENT:
        return "department_of_submitter", inputs.department
    if label in inputs.fields:
        return inputs.fields[label]
    if rule.form_id:
        raise Broken(_("字段“%s”已不在表单中") % label)
    return None  # an all-forms rule asking about a field this form does not have


def _check_department_names(ftype: str, op: str, value: str, inputs: Inputs, label: str) -> None:
    if ftype not in {"department", "departments", "department_of_submitter"} or op not in {"eq", "in", "contains"}:
        return
    names = inputs.department_names
    for name in C.split_values(value) if op == "in" else [value.strip()]:
        if name and name not in names:
            raise Broken(_("条件“%(label)s”中的部门“%(name)s”已不存在") % {"label": label, "name": name})


def _test(rule: CompiledRule, cond, inputs: Inputs, reasons: list[str] | None) -> bool:
    label, op, value, _group = cond
    subject = _subject(rule, label, inputs)
    if subject is None:
        if reasons is not None:
            reasons.append(_("%s：本表单没有此字段，不满足") % label)
        return False
    ftype, raw = subject
    _check_department_names(ftype, op, value, inputs, label)
    try:
        ok = C.test(op, ftype, raw, value)
    except C.ConditionError as exc:
        raise Broken(_("条件“%(label)s”无法判断：%(error)s") % {"label": label, "error": exc}) from None
    if reasons is not None:
        shown = C.normalise(ftype, raw)
        if isinstance(shown, list):
            shown = "、".join(shown)
        reasons.append(
            "%s%s %s %s → %s"
            % (label, f"（{shown or _('空')}）", C.OPERATORS[op], value, _("满足") if ok else _("不满足"))
        )
    return ok


def matches(rule: CompiledRule, inputs: Inputs, *, explain: bool = True) -> tuple[bool, list[str]]:
    """Whether the rule's conditions hold. With ``explain`` every condition is evaluated and
    explained in one line; without, evaluation stops as soon as the answer is known."""
    if not rule.conditions:
        return True, [_("无条件，总是匹配")] if explain else []
    inner = all if rule.match == "any" else any
    outer = all if rule.match == "all" else any
    if explain:
        reasons: list[str] = []
        values = [_test(rule, c, inputs, reasons) for c in rule.singles]
        values += [inner([_test(rule, c, inputs, reasons) for c in conds]) for conds in rule.groups]
        return outer(values), reasons
    lazy = itertools.chain(
        (_test(rule, c, inputs, None) for c in rule.singles),
        (inner(_test(rule, c, inputs, None) for c in conds) for conds in rule.groups),
    )
    return outer(lazy), []


def _department_from(label: str, inputs: Inputs, *, many: bool) -> list[int]:
    if label not in inputs.fields:
        raise Broken(_("取部门的字段“%s”已不在表单中") % label)
    ftype, raw = inputs.fields[label]
    if ftype not in {"department", "departments"}:
        raise Broken(_("字段“%s”不是部门字段") % label)
    items = raw if isinstance(raw, list) else ([raw] if raw else [])
    ids = [i.get("id") for i in items if isinstance(i, dict)]
    return [i for i in ids if i in inputs.departments]


def actions(rule: CompiledRule, inputs: Inputs, coordinator_department_id: int | None) -> tuple[int | None, list[int]]:
    lead = rule.lead_department_id
    if rule.lead_from_field:
        found = _department_from(rule.lead_from_field, inputs, many=False)
        if found:
            lead = found[0]
        elif lead is None:
            raise Broken(_("字段“%s”没有选择有效的部门") % rule.lead_from_field)
    if lead is not None and lead not in inputs.departments:
        raise Broken(_("牵头部门已不存在"))
    if lead is None:
        if not rule.is_fallback:
            raise Broken(_("牵头部门已删除"))
        lead = coordinator_department_id
    cooperating = [d for d in rule.cooperating_ids if d in inputs.departments]
    if rule.cooperating_from_field and rule.cooperating_from_field in inputs.fields:
        cooperating += _department_from(rule.cooperating_from_field, inputs, many=True)
    cooperating = list(dict.fromkeys(d for d in cooperating if d != lead))
    return lead, cooperating


def decide(
    rules: list[CompiledRule], inputs: Inputs, *, coordinator_department_id: int | None = None, explain: bool = False
) -> Decision:
    """The first matching rule's decision. The trace lists the rules skipped as broken and the
    match (with ``explain``: every rule tried, each condition explained)."""
    trace: list[dict] = []
    for rule in rules:
        if rule.form_id and rule.form_id != inputs.form_id:
            continue
        try:
            ok, reasons = matches(rule, inputs, explain=explain)
            if ok:
                lead, cooperating = actions(rule, inputs, coordinator_department_id)
        except Broken as exc:
            trace.append({"rule": rule.pk, "name": rule.name, "version": rule.version, "result": "broken", "reasons": [str(exc)]})
            continue
        if ok and not explain:
            reasons = matches(rule, inputs, explain=True)[1]
        if ok or explain:
            trace.append(
                {"rule": rule.pk, "name": rule.name, "version": rule.version, "result": "match" if ok else "no",
                 "reasons": reasons}
            )
        if ok:
            return Decision(
                rule_id=rule.pk,
                rule_name=rule.name,
                version=rule.version,
                lead_department_id=lead,
                cooperating_ids=cooperating,
                copy_leader=rule.copy_leader,
                copy_coordinator=rule.copy_coordinator or rule.is_fallback,
                grade=rule.grade,
                policy_id=rule.policy_id,
                reasons=reasons,
                trace=trace,
            )
    # No fallback loaded (a test passing its own list): still never unrouted.
    return Decision(None, _("兜底：交协调岗"), 0, coordinator_department_id, [], False, True, "normal", None, [], trace)


def coordinator_department_id() -> int | None:
    from portal.models import Role
    from portal.models.people import users_with_role

    user = users_with_role(Role.COORDINATOR).exclude(department__isnull=True).order_by("pk").first()
    return user.department_id if user else None


def ensure_fallback_rule():
    """The fallback rule exists (it is created again if it ever went missing)."""
    from .rule_models import RoutingRule

    rule = RoutingRule.objects.filter(is_fallback=True).order_by("pk").first()
    if rule is None:
        rule = RoutingRule(
            name=_("兜底：交协调岗"),
            sort_order=1_000_000,
            is_fallback=True,
            copy_coordinator=True,
            lead_department_id=coordinator_department_id(),
        )
        rule.save()
    return rule


# -- validation and warnings (admin) -------------------------------------------------------------


def form_field_types(form_id: int | None) -> dict[str, set[str]]:
    """label -> field types, for one form or (``None``) every form."""
    from forms.models import FormField

    qs = FormField.objects.exclude(field_type="section")
    if form_id:
        qs = qs.filter(page_id=form_id)
    types: dict[str, set[str]] = {}
    for label, ftype in qs.values_list("label", "field_type"):
        types.setdefault(label.strip(), set()).add(ftype)
    return types


def condition_error(form_id: int | None, label: str, op: str, value: str, types=None) -> str | None:
    label = (label or "").strip()
    types = types if types is not None else form_field_types(form_id)
    if label == C.SUBMITTER_DEPARTMENT:
        found = {"department_of_submitter"}
    elif label not in types:
        where = _("本表单") if form_id else _("任何表单")
        available = "、".join(sorted(types)) or _("（无）")
        return _("%(where)s没有标签为“%(label)s”的字段。可用字段：%(available)s、提交部门") % {
            "where": where,
            "label": label,
            "available": available,
        }
    else:
        found = types[label]
    errors = [C.check(op, t, value) for t in found]
    if all(errors):
        return errors[0]
    if "department" in found or "departments" in found or label == C.SUBMITTER_DEPARTMENT:
        names = set(live_departments().values())
        for name in C.split_values(value) if op == "in" else [(value or "").strip()]:
            if name and name not in names and op in {"eq", "in", "contains"}:
                return _("没有名为“%s”的部门。") % name
    return None


def department_field_error(form_id: int | None, label: str, types=None) -> str | None:
    types = types if types is not None else form_field_types(form_id)
    label = (label or "").strip()
    if label not in types:
        return _("表单中没有标签为“%s”的字段。") % label
    if not types[label] & {"department", "departments"}:
        return _("字段“%s”不是部门字段。") % label
    return None


def rule_warnings(rule) -> list[str]:
    """Why a saved rule would be skipped now (a field or department deleted since)."""
    if rule.is_fallback:
        return []
    types = form_field_types(rule.form_id)
    warnings = []
    for c in rule.conditions.all():
        error = condition_error(rule.form_id, c.field_label, c.operator, c.value, types)
        if error:
            warnings.append(error)
    for label in filter(None, [rule.lead_from_field, rule.cooperating_from_field]):
        error = department_field_error(rule.form_id, label, types)
        if error:
            warnings.append(error)
    if rule.lead_department_id is None and not rule.lead_from_field:
        warnings.append(_("牵头部门已删除，此规则会被跳过。"))
    return warnings
