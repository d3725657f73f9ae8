"""Routing rules: the condition language, first match wins, broken rules fall through, the
fallback, validation on save, 试运行, and a routed matter remembering why."""

from __future__ import annotations

from django.urls import reverse

import pytest

from forms.demo import submit
from forms.testing import make_form_page
from matters import conditions as C
from matters import routing
from matters.models import Matter, MatterStatus
from matters.rule_models import DeadlinePolicy, RoutingRule, RuleCondition

FAULT_FIELDS = [
    {"label": "故障标题", "field_type": "singleline"},
    {"label": "紧急程度", "field_type": "urgency"},
    {"label": "需要支援的部门", "field_type": "departments", "required": False},
    {"label": "牵头部门", "field_type": "department", "required": False},
    {"label": "影响户数", "field_type": "number", "required": False},
    {"label": "发生日期", "field_type": "date", "required": False},
]


@pytest.fixture
def fault_page(org):
    return make_form_page(title="故障转呈单", slug="fault", prefix="ZC", fields=FAULT_FIELDS)


def make_rule(name, *, form=None, conds=(), match="all", order=10, **kwargs):
    rule = RoutingRule(name=name, form=form, match=match, sort_order=order, **kwargs)
    rule.conditions = [RuleCondition(field_label=f, operator=o, value=v, group=g) for f, o, v, g in conds]
    rule.save()
    return rule


def fault(page, user, urgency="high", **extra):
    keys = {f.label: f.clean_name for f in page.form_fields.all()}
    values = {keys["故障标题"]: "水泵故障", keys["紧急程度"]: urgency}
    values.update({keys[k]: v for k, v in extra.items()})
    return submit(page, user, values)


# -- the condition language ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "ftype", "raw", "value", "expected"),
    [
        ("eq", "urgency", "high", "高", True),
        ("eq", "urgency", "low", "高", False),
        ("in", "dropdown", "B", "A, B，C", True),
        ("in", "departments", [{"id": 1, "name": "工程部"}], "秩序部|工程部", True),
        ("contains", "multiline", "水泵不启动", "水泵", True),
        ("contains", "departments", [{"id": 1, "name": "工程部"}], "客服部", False),
        ("empty", "singleline", "", "", True),
        ("not_empty", "attachments", [{"id": 1}], "", True),
        ("gt", "number", "12", "10", True),
        ("lt", "date", "2026-01-05", "2026-01-31", True),
        ("between", "date", "2026-02-10", "2026-02-01~2026-02-28", True),
        ("between", "datetime", "2026-03-10T09:00:00+08:00", "2026-02-01至2026-02-28", False),
        ("eq", "department", {"id": 3, "name": "工程部"}, "工程部", True),
        ("gt", "number", None, "1", False),
    ],
)
def test_operators(op, ftype, raw, value, expected):
    assert C.test(op, ftype, raw, value) is expected


@pytest.mark.parametrize(
    ("op", "ftype", "value", "fragment"),
    [
        ("gt", "singleline", "3", "不适用"),
        ("between", "number", "1~2", "不适用"),
        ("contains", "urgency", "高", "不适用"),
        ("gt", "number", "abc", "不是数字"),
        ("between", "date", "2026-03-01", "日期区间"),
        ("eq", "singleline", "", "需要填写"),
        ("nope", "singleline", "x", "未知"),
    ],
)
def test_condition_that_cannot_work_is_refused_in_chinese(op, ftype, value, fragment):
    assert fragment in C.check(op, ftype, value)


# -- deciding ---------------------------------------------------------------------------------------


def inputs(fields, dept="阳光花园管理处", form_id=1, departments=None):
    departments = departments or {1: "工程部", 2: "客服部", 3: "阳光花园管理处", 4: "综合管理部"}
    return routing.Inputs(form_id, "故障转呈单", fields, {"id": 3, "name": dept}, departments)


def compiled(name, conds, *, match="all", lead=1, form_id=1, pk=None, **kw):
    return routing.CompiledRule(
        pk=pk or abs(hash(name)) % 1000, name=name, version=1, form_id=form_id, match=match, conditions=conds,
        lead_department_id=lead, lead_from_field=kw.get("lead_from_field", ""), cooperating_ids=[],
        cooperating_from_field="", copy_leader=False, copy_coordinator=False, grade="normal", policy_id=None,
        is_fallback=kw.get("is_fallback", False),
    )


def test_first_matching_rule_decides_and_the_trace_says_why():
    rules = [
        compiled("高 → 工程部", [("紧急程度", "eq", "高", 0)], lead=1),
        compiled("其他 → 客服部", [], lead=2),
    ]
    d = routing.decide(rules, inputs({"紧急程度": ("urgency", "high")}))
    assert d.rule_name == "高 → 工程部" and d.lead_department_id == 1
    assert "满足" in d.reasons[0] and len(d.trace) == 1
    d = routing.decide(rules, inputs({"紧急程度": ("urgency", "low")}), explain=True)
    assert d.lead_department_id == 2
    assert [t["result"] for t in d.trace] == ["no", "match"]


def test_groups_give_all_of_with_an_any_of_inside():
    rule = compiled(
        "r",
        [("紧急程度", "eq", "高", 0), ("故障标题", "contains", "电梯", 1), ("故障标题", "contains", "水泵", 1)],
    )
    ok = inputs({"紧急程度": ("urgency", "high"), "故障标题": ("singleline", "水泵坏了")})
    assert routing.matches(rule, ok)[0]
    no = inputs({"紧急程度": ("urgency", "high"), "故障标题": ("singleline", "门禁坏了")})
    assert not routing.matches(rule, no)[0]
    any_rule = compiled("any", [("紧急程度", "eq", "高", 0), ("故障标题", "contains", "门禁", 0)], match="any")
    assert routing.matches(any_rule, inputs({"紧急程度": ("urgency", "low"), "故障标题": ("singleline", "门禁坏了")}))[0]


def test_rule_pointing_at_deleted_field_or_department_is_skipped_and_falls_through():
    rules = [
        compiled("旧字段", [("已删除的字段", "eq", "x", 0)], lead=1),
        compiled("已撤销的部门", [(C.SUBMITTER_DEPARTMENT, "eq", "已撤销部门", 0)], lead=1),
        compiled("牵头部门被删", [], lead=99),
        compiled("兜底", [], lead=None, is_fallback=True),
    ]
    d = routing.decide(rules, inputs({"紧急程度": ("urgency", "high")}), coordinator_department_id=4)
    assert [t["result"] for t in d.trace] == ["broken", "broken", "broken", "match"]
    assert "已不在表单中" in d.trace[0]["reasons"][0]
    assert "已撤销部门" in d.trace[1]["reasons"][0]
    assert d.lead_department_id == 4 and d.copy_coordinator


def test_nothing_is_left_unrouted_even_without_any_rule():
    d = routing.decide([], inputs({}), coordinator_department_id=4)
    assert d.lead_department_id == 4 and d.copy_coordinator


def test_lead_department_taken_from_a_field():
    rule = compiled("取字段", [], lead=None, lead_from_field="牵头部门")
    d = routing.decide([rule], inputs({"牵头部门": ("department", {"id": 2, "name": "客服部"})}))
    assert d.lead_department_id == 2


# -- with the database ------------------------------------------------------------------------------


def test_submission_is_routed_by_the_rules_and_remembers_why(
    org, fault_page, calendar_2026, django_capture_on_commit_callbacks
):
    make_rule("紧急故障 → 工程部", form=fault_page, conds=[("紧急程度", "eq", "高", 0)],
              lead_department=org.depts["engineering"], copy_supervising_leader=True, grade="important")
    with django_capture_on_commit_callbacks(execute=True):
        sub = fault(fault_page, org.users["site_staff"])
    matter = Matter.objects.get(pk=sub.matter_id)
    assert matter.status == MatterStatus.ROUTED
    assert matter.lead_department == org.depts["engineering"]
    assert matter.grade == "important"
    assert matter.routing_rule.name == "紧急故障 → 工程部" and matter.routing_version == 1
    assert matter.routing_data["inputs"]["fields"]["紧急程度"] == "高"
    assert matter.accept_due is not None and matter.next_due_at is not None
    from portal.notifications.models import Notification

    assert Notification.objects.filter(recipient=org.users["eng_head"], kind="matter.routed").exists()
    assert Notification.objects.filter(recipient=org.users["leader"], kind="matter.copy").exists()


def test_low_urgency_falls_back_to_the_coordinator(org, fault_page, calendar_2026, django_capture_on_commit_callbacks):
    make_rule("紧急故障 → 工程部", form=fault_page, conds=[("紧急程度", "eq", "高", 0)], lead_department=org.depts["engineering"])
    with django_capture_on_commit_callbacks(execute=True):
        sub = fault(fault_page, org.users["site_staff"], urgency="low")
    matter = Matter.objects.get(pk=sub.matter_id)
    assert matter.status == MatterStatus.ROUTED
    assert matter.lead_department == org.depts["general"]
    assert matter.routing_rule.is_fallback


def test_fallback_rule_cannot_be_deleted(org):
    from django.core.exceptions import ValidationError

    rule = routing.ensure_fallback_rule()
    with pytest.raises(ValidationError):
        rule.delete()
    assert RoutingRule.objects.filter(is_fallback=True).count() == 1


def test_rule_warning_appears_when_its_field_is_deleted(org, fault_page):
    rule = make_rule("按户数", form=fault_page, conds=[("影响户数", "gt", "10", 0)], lead_department=org.depts["engineering"])
    assert rule.warnings == []
    fault_page.form_fields.filter(label="影响户数").delete()
    assert any("影响户数" in w for w in RoutingRule.objects.get(pk=rule.pk).warnings)


def test_validation_refuses_unknown_field_and_wrong_operator(org, fault_page):
    assert "没有标签为“不存在”的字段" in routing.condition_error(fault_page.pk, "不存在", "eq", "x")
    assert "可用字段" in routing.condition_error(fault_page.pk, "不存在", "eq", "x")
    assert "不适用" in routing.condition_error(fault_page.pk, "故障标题", "gt", "3")
    assert "没有名为" in routing.condition_error(fault_page.pk, "牵头部门", "eq", "火星部")
    assert routing.condition_error(fault_page.pk, "影响户数", "gt", "3") is None
    assert "不是部门字段" in routing.department_field_error(fault_page.pk, "故障标题")


def _rule_post(form_id, lead_id, conds, name="测试规则"):
    data = {
        "name": name, "sort_order": "5", "enabled": "on", "form": str(form_id) if form_id else "", "match": "all",
        "lead_department": str(lead_id) if lead_id else "", "lead_from_field": "", "cooperating_from_field": "",
        "grade": "normal", "policy": "",
        "conditions-TOTAL_FORMS": str(len(conds)), "conditions-INITIAL_FORMS": "0",
        "conditions-MIN_NUM_FORMS": "0", "conditions-MAX_NUM_FORMS": "1000",
    }
    for i, (label, op, value) in enumerate(conds):
        data.update({f"conditions-{i}-field_label": label, f"conditions-{i}-operator": op,
                     f"conditions-{i}-value": value, f"conditions-{i}-group": "0", f"conditions-{i}-ORDER": str(i + 1),
                     f"conditions-{i}-id": "", f"conditions-{i}-DELETE": ""})
    return data


def test_admin_saves_a_rule_without_code_and_the_next_submission_follows_it(
    org, fault_page, calendar_2026, login, django_capture_on_commit_callbacks
):
    client = login(org.users["admin"])
    url = reverse("wagtailsnippets_matters_routingrule:add")
    bad = client.post(url, _rule_post(fault_page.pk, org.depts["service"].pk, [("不存在的字段", "eq", "x")]))
    assert bad.status_code == 200
    assert "没有标签为“不存在的字段”的字段" in bad.content.decode()
    assert not RoutingRule.objects.filter(name="测试规则").exists()
    ok = client.post(url, _rule_post(fault_page.pk, org.depts["service"].pk, [("紧急程度", "eq", "中")]))
    assert ok.status_code == 302, ok.content.decode()[:2000]
    with django_capture_on_commit_callbacks(execute=True):
        sub = fault(fault_page, org.users["site_staff"], urgency="medium")
    matter = Matter.objects.get(pk=sub.matter_id)
    assert matter.lead_department == org.depts["service"]
    assert matter.routing_rule.name == "测试规则"


def test_try_run_explains_and_changes_nothing(org, fault_page, calendar_2026, login, django_capture_on_commit_callbacks):
    make_rule("紧急故障 → 工程部", form=fault_page, conds=[("紧急程度", "eq", "高", 0)], lead_department=org.depts["engineering"])
    with django_capture_on_commit_callbacks(execute=True):
        sub = fault(fault_page, org.users["site_staff"])
    before = (Matter.objects.count(), RoutingRule.objects.count())
    client = login(org.users["admin"])
    response = client.get(reverse("matters_admin:try"), {"run": "1", "reference": sub.matter.reference})
    body = response.content.decode()
    assert response.status_code == 200 and "紧急故障 → 工程部" in body and "工程部" in body
    field = fault_page.form_fields.get(label="紧急程度")
    response = client.get(reverse("matters_admin:try"), {"run": "1", "form": fault_page.pk, f"f_{field.pk}": "低"})
    assert "兜底" in response.content.decode()
    assert (Matter.objects.count(), RoutingRule.objects.count()) == before


def test_deadline_policy_validation(db):
    from django.core.exceptions import ValidationError

    policy = DeadlinePolicy(name="x", escalate_leader_after=3, escalate_gm_after=1)
    with pytest.raises(ValidationError):
        policy.full_clean()


def test_rule_editor_offers_the_forms_field_labels(org, fault_page, login):
    body = login(org.users["admin"]).get(reverse("wagtailsnippets_matters_routingrule:add")).content.decode()
    assert "<datalist" in body and 'value="紧急程度"' in body and 'value="提交部门"' in body
