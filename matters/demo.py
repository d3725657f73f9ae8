"""Demo content for routing and deadlines: the default policies and rules of domain.md, and
matters in every state (some overdue), all idempotent."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from portal.models import Department, User

from . import lifecycle
from .deadlines import CLOCK, WORKDAYS
from .models import Grade, Matter, MatterStatus
from .routing import ensure_fallback_rule
from .rule_models import DeadlinePolicy, RoutingRule, RuleCondition
from .services import open_matter

POLICIES = [
    {
        "name": "标准时限",
        "unit": WORKDAYS,
        "accept_within": 1,
        "progress_every": 2,
        "progress_every_urgent": 1,
        "resolve_normal": 1,
        "resolve_important": 3,
        "resolve_major": 3,
        "confirm_within": 3,
        "remind_before_hours": 4,
        "escalate_leader_after": 1,
        "escalate_gm_after": 3,
    },
    {
        "name": "紧急情况（钟点）",
        "unit": CLOCK,
        "accept_within": Decimal("0.5"),
        "progress_every": 4,
        "progress_every_urgent": 4,
        "resolve_normal": 2,
        "resolve_important": 2,
        "resolve_major": 2,
        "confirm_within": 3,
        "remind_before_hours": Decimal("0.25"),
        "escalate_leader_after": 1,
        "escalate_gm_after": 2,
    },
]


def _rules(forms, depts, standard):
    return [
        {
            "name": "故障转呈单：紧急 → 工程部",
            "sort_order": 10,
            "form": forms.get("guzhang-zhuancheng"),
            "conditions": [("紧急程度", "eq", "高")],
            "lead_department": depts["engineering"],
            "cooperating_from_field": "需要支援的部门",
            "copy_supervising_leader": True,
            "grade": Grade.IMPORTANT,
            "policy": standard,
        },
        {
            "name": "故障转呈单 → 工程部",
            "sort_order": 20,
            "form": forms.get("guzhang-zhuancheng"),
            "conditions": [],
            "lead_department": depts["engineering"],
            "cooperating_from_field": "需要支援的部门",
            "grade": Grade.NORMAL,
            "policy": standard,
        },
        {
            "name": "问题反馈单：已有业主投诉 → 客服部",
            "sort_order": 30,
            "form": forms.get("wenti-fankui"),
            "conditions": [("是否已造成业主投诉", "eq", "是")],
            "lead_department": depts["service"],
            "copy_coordinator": True,
            "grade": Grade.IMPORTANT,
            "policy": standard,
        },
        {
            "name": "跨部门协作需求单 → 所填牵头部门",
            "sort_order": 40,
            "form": forms.get("xiezuo-xuqiu"),
            "conditions": [],
            "lead_from_field": "牵头部门",
            "cooperating_from_field": "所需配合部门",
            "grade": Grade.NORMAL,
            "policy": standard,
        },
        {
            "name": "工作联系单 → 接收部门",
            "sort_order": 50,
            "form": forms.get("gongzuo-lianxi"),
            "conditions": [],
            "lead_from_field": "接收部门",
            "grade": Grade.NORMAL,
            "policy": standard,
        },
    ]


def seed_rules(log) -> None:
    from forms.models import FormPage

    policies = {}
    for spec in POLICIES:
        policy, created = DeadlinePolicy.objects.get_or_create(name=spec["name"], defaults=spec)
        policies[spec["name"]] = policy
        if created:
            log(f"  时限规则：{policy.name}")
    depts = {d.code: d for d in Department.objects.all()}
    if not {"engineering", "service", "general"} <= set(depts):
        return
    fallback = ensure_fallback_rule()
    if fallback.lead_department_id is None:
        fallback.lead_department = depts["general"]
        fallback.policy = policies["标准时限"]
        fallback.save()
    forms = {p.slug: p for p in FormPage.objects.all()}
    for spec in _rules(forms, depts, policies["标准时限"]):
        if spec["form"] is None or RoutingRule.objects.filter(name=spec["name"]).exists():
            continue
        spec = dict(spec)
        conditions = spec.pop("conditions")
        rule = RoutingRule(**spec)
        rule.conditions = [RuleCondition(field_label=f, operator=o, value=v) for f, o, v in conditions]
        rule.save()
        log(f"  分派规则：{rule.name}")


def _at(days_ago: int, hour: int = 10) -> dt.datetime:
    local = timezone.localtime() - dt.timedelta(days=days_ago)
    return local.replace(hour=hour, minute=0, second=0, microsecond=0)


FAULT = "guzhang-zhuancheng"


def _fault(page, user, ref, title, urgency, when, depts):
    from forms.models import Submission

    fields = {f.label: f.clean_name for f in page.form_fields.all()}
    matter = open_matter(title=title, submitter=user, reference=ref, source_page=page, urgency=urgency, source="form",
                         data={"form": page.title, "demo": True}, when=when)
    data = {
        fields["故障标题"]: title,
        fields["所在管理处"]: {"id": user.department_id, "name": user.department.name},
        fields["故障位置"]: "1 号楼",
        fields["紧急程度"]: urgency,
        fields["故障描述"]: title + "，需要总部支援。",
        fields["已采取措施"]: "已设置警示并安排人员值守。",
        fields["需要支援的部门"]: [],
    }
    Submission.objects.create(page=page, form_data=data, matter=matter, user=user, form_token=uuid.uuid4().hex)
    Submission.objects.filter(matter=matter).update(submit_time=when)
    lifecycle.route_matter(matter, when=when)
    matter.refresh_from_db()
    return matter


def seed_demo_matters(log) -> None:
    from forms.models import FormPage

    page = FormPage.objects.filter(slug=FAULT).first()
    users = {u.username: u for u in User.objects.filter(username__in=["site_staff", "eng_head", "eng_staff", "coordinator"])}
    if page is None or len(users) < 4:
        return
    depts = {d.code: d for d in Department.objects.all()}
    site, head, staff, coord = users["site_staff"], users["eng_head"], users["eng_staff"], users["coordinator"]
    plans = [
        ("DEMO-ZC-01", "2 号楼电梯困人报警（已分派，待受理）", "high", 0, []),
        ("DEMO-ZC-02", "地下车库照明大面积不亮（受理逾期）", "medium", 6, []),
        ("DEMO-ZC-03", "屋面防水层破损渗漏（已受理）", "medium", 0, ["accept"]),
        ("DEMO-ZC-04", "消防水泵房压力不足（办理中，办结逾期）", "high", 9, ["accept", "progress"]),
        ("DEMO-ZC-05", "小区大门道闸故障（已办结，待确认）", "medium", 1, ["accept", "resolve"]),
        ("DEMO-ZC-06", "3 号楼水箱浮球阀损坏（已确认）", "low", 10, ["accept", "resolve", "confirm"]),
        ("DEMO-ZC-07", "监控主机硬盘告警（退回重办）", "medium", 4, ["accept", "resolve", "return"]),
        ("DEMO-ZC-08", "景观水池循环泵更换（已归档）", "low", 20, ["accept", "resolve", "confirm", "archive"]),
        ("DEMO-ZC-09", "单元门禁读卡器失灵（等待提交人补充）", "medium", 1, ["accept", "pause"]),
    ]
    for ref, title, urgency, days_ago, steps in plans:
        if Matter.objects.filter(reference=ref).exists():
            continue
        start = _at(days_ago)
        with transaction.atomic():
            matter = _fault(page, site, ref, title, urgency, start, depts)
            for i, step in enumerate(steps):
                when = min(timezone.now(), start + dt.timedelta(hours=2 * (i + 1)))
                if step == "accept":
                    lifecycle.accept(matter, head, handler=staff, commitment_date=None, text="已安排维修人员。", when=when)
                elif step == "progress":
                    lifecycle.add_progress(matter, staff, "已到场检查，等待配件。", when=when)
                elif step == "resolve":
                    lifecycle.resolve(matter, staff, "已修复并试运行正常。", when=when)
                elif step == "confirm":
                    lifecycle.confirm(matter, site, "已确认，谢谢。", when=when)
                elif step == "return":
                    lifecycle.return_matter(matter, site, "仍有告警，请再检查。")
                elif step == "archive":
                    lifecycle.archive(matter, coord)
                elif step == "pause":
                    lifecycle.pause_for_submitter(matter, staff, "请补充读卡器所在单元和故障照片。")
                matter.refresh_from_db()
        log(f"  示例事项：{ref} {title}（{MatterStatus(matter.status).label}）")


def seed_matters(log=print) -> None:
    seed_rules(log)
    # Submissions seeded before the rules existed (the forms demo) are routed now.
    for matter in Matter.objects.filter(status=MatterStatus.SUBMITTED):
        lifecycle.route_matter(matter)
    seed_demo_matters(log)
