"""Demo organisation: departments, about 30 people with roles, and the 2026 calendar.

Idempotent: every object is looked up by a natural key and only created when missing, so a
second run changes nothing.
"""

from __future__ import annotations

from django.db import transaction

from portal.models import Department, DepartmentKind, Role, User, WorkDay
from portal.services.calendar import CalendarUnavailable, import_workdays

DEMO_PASSWORD = "demo1234"  # noqa: S105 - documented demo credential

COMPANY = ("company", "示范物业服务有限公司", "公司", DepartmentKind.COMPANY)
DEPARTMENTS = [
    # code, name, short name, kind, phone
    ("general", "综合管理部", "综合", DepartmentKind.DEPARTMENT, "0571-8800 1001"),
    ("hr", "行政人事部", "人事", DepartmentKind.DEPARTMENT, "0571-8800 1002"),
    ("finance", "财务部", "财务", DepartmentKind.DEPARTMENT, "0571-8800 1003"),
    ("quality", "品质管理部", "品质", DepartmentKind.DEPARTMENT, "0571-8800 1004"),
    ("service", "客服部", "客服", DepartmentKind.DEPARTMENT, "0571-8800 1005"),
    ("engineering", "工程部", "工程", DepartmentKind.DEPARTMENT, "0571-8800 1006"),
    ("security", "秩序部", "秩序", DepartmentKind.DEPARTMENT, "0571-8800 1007"),
    ("environment", "环境部", "环境", DepartmentKind.DEPARTMENT, "0571-8800 1008"),
    ("sunshine", "阳光花园管理处", "阳光花园", DepartmentKind.SITE_OFFICE, "0571-8800 2001"),
    ("riverside", "滨江大厦管理处", "滨江大厦", DepartmentKind.SITE_OFFICE, "0571-8800 2002"),
]

# username, name, department code, title, employee no
PEOPLE = [
    ("gm", "周建国", "company", "总经理", "E0001"),
    ("leader", "王立新", "company", "副总经理（分管工程、秩序、环境）", "E0002"),
    ("leader2", "陈丽华", "company", "副总经理（分管客服、品质、管理处）", "E0003"),
    ("leader3", "李振华", "company", "副总经理（分管综合、人事、财务）", "E0004"),
    ("coordinator", "赵敏", "general", "协调岗（执行秘书）", "E0101"),
    ("general_head", "孙伟", "general", "综合管理部经理", "E0102"),
    ("hr_head", "钱芳", "hr", "行政人事部经理", "E0201"),
    ("hr_staff", "吴婷", "hr", "人事专员", "E0202"),
    ("fin_head", "郑洁", "finance", "财务部经理", "E0301"),
    ("fin_staff", "冯磊", "finance", "会计", "E0302"),
    ("qa_head", "何静", "quality", "品质管理部经理", "E0401"),
    ("qa_staff", "吕强", "quality", "品质专员", "E0402"),
    ("cs_head", "林晓燕", "service", "客服部经理", "E0501"),
    ("cs_liaison", "黄丹", "service", "客服主管（对接人）", "E0502"),
    ("cs_staff", "刘洋", "service", "客服专员", "E0503"),
    ("cs_staff2", "许诺", "service", "客服专员", "E0504"),
    ("eng_head", "张工", "engineering", "工程部经理", "E0601"),
    ("eng_liaison", "马超", "engineering", "工程主管（对接人）", "E0602"),
    ("eng_staff", "朱明", "engineering", "维修技工", "E0603"),
    ("eng_staff2", "胡斌", "engineering", "电工", "E0604"),
    ("sec_head", "高峰", "security", "秩序部经理", "E0701"),
    ("sec_liaison", "罗勇", "security", "秩序主管（对接人）", "E0702"),
    ("sec_staff", "梁刚", "security", "秩序队员", "E0703"),
    ("env_head", "宋雪", "environment", "环境部经理", "E0801"),
    ("env_liaison", "谢娜", "environment", "环境主管（对接人）", "E0802"),
    ("site_head", "韩冬", "sunshine", "阳光花园管理处主任", "E0901"),
    ("site_staff", "唐亮", "sunshine", "管理员", "E0902"),
    ("site2_head", "曹阳", "riverside", "滨江大厦管理处主任", "E1001"),
    ("site2_staff", "彭飞", "riverside", "管理员", "E1002"),
    ("nodept", "新同事", None, "", "E9999"),
]

# department code -> (head, liaisons, supervising leader)
ASSIGNMENTS = {
    "company": ("gm", [], None),
    "general": ("general_head", ["coordinator"], "leader3"),
    "hr": ("hr_head", ["hr_staff"], "leader3"),
    "finance": ("fin_head", ["fin_staff"], "leader3"),
    "quality": ("qa_head", ["qa_staff"], "leader2"),
    "service": ("cs_head", ["cs_liaison"], "leader2"),
    "engineering": ("eng_head", ["eng_liaison"], "leader"),
    "security": ("sec_head", ["sec_liaison"], "leader"),
    "environment": ("env_head", ["env_liaison"], "leader"),
    "sunshine": ("site_head", ["site_staff"], "leader2"),
    "riverside": ("site2_head", ["site2_staff"], "leader2"),
}

ROLES = [
    (Role.COORDINATOR, "协调岗", "审核、分派问题，维护台账，归档。", ["coordinator"]),
    (Role.GENERAL_MANAGER, "总经理", "最后一级升级对象。", ["gm"]),
    (Role.DEPARTMENT_HEAD, "部门负责人", "由部门设置决定。", []),
    (Role.LIAISON, "对接人", "由部门设置决定。", []),
    (Role.SUPERVISING_LEADER, "分管领导", "由部门设置决定。", []),
]

# Demo accounts printed by `make demo` and listed in the README.
DEMO_ACCOUNTS = [
    ("admin", "超级管理员"),
    ("coordinator", "协调岗（综合管理部）"),
    ("leader", "分管领导（工程部、秩序部、环境部）"),
    ("eng_head", "工程部负责人"),
    ("eng_liaison", "工程部对接人"),
    ("cs_head", "客服部负责人"),
    ("cs_liaison", "客服部对接人"),
    ("cs_staff", "客服部员工"),
    ("site_staff", "阳光花园管理处员工"),
]


@transaction.atomic
def seed_organisation(log=print) -> None:
    company, _ = Department.objects.get_or_create(
        code=COMPANY[0], defaults={"name": COMPANY[1], "short_name": COMPANY[2], "kind": COMPANY[3], "sort_order": 0}
    )
    departments = {"company": company}
    for order, (code, name, short, kind, phone) in enumerate(DEPARTMENTS, start=1):
        departments[code], _ = Department.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "short_name": short,
                "kind": kind,
                "parent": company,
                "phone": phone,
                "sort_order": order * 10,
            },
        )

    users = {}
    admin, created = User.objects.get_or_create(
        username="admin", defaults={"name": "系统管理员", "is_staff": True, "is_superuser": True, "employee_no": "A0001"}
    )
    if created:
        admin.set_password(DEMO_PASSWORD)
        admin.save()
    for i, (username, name, dept, title, number) in enumerate(PEOPLE):
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "name": name,
                "department": departments.get(dept),
                "title": title,
                "employee_no": number,
                "email": f"{username}@example.com",
                "mobile": f"138{i:08d}",
                "is_staff": username in {"coordinator"},
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        users[username] = user

    for code, (head, liaisons, leader) in ASSIGNMENTS.items():
        dept = departments[code]
        changed = False
        if head and dept.head_id is None:
            dept.head, changed = users[head], True
        if leader and dept.supervising_leader_id is None:
            dept.supervising_leader, changed = users[leader], True
        if changed:
            dept.save()
        if liaisons and not dept.liaisons.exists():
            dept.liaisons.set([users[u] for u in liaisons])

    for code, name, description, members in ROLES:
        role, created = Role.objects.get_or_create(code=code, defaults={"name": name, "description": description})
        if created and members:
            role.members.set([users[u] for u in members])
    log(f"组织机构：{Department.objects.count()} 个部门，{User.objects.count()} 个账号")


def seed_calendar(log=print) -> None:
    for year in (2025, 2026):
        if WorkDay.objects.filter(date__year=year).exists():
            continue
        try:
            result = import_workdays(year)
        except CalendarUnavailable as exc:  # pragma: no cover - the pinned library has 2025-2026
            log(str(exc))
            continue
        log(f"工作日历：导入 {year} 年，{result.workdays} 个工作日")
