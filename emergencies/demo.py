"""Demo data: event types, clock policies, two weeks of rosters, one event under way (two
milestones met, one overdue) and one closed with its review. Idempotent."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from portal.models import Department, User

from . import services
from .models import ClockPolicy, DutyShift, Emergency, EmergencyType, Grade

TYPES = [
    ("电梯困人", ["engineering", "security"]),
    ("停水", ["engineering", "service"]),
    ("停电", ["engineering", "service"]),
    ("火警", ["security", "engineering"]),
    ("漏水", ["engineering", "environment"]),
    ("治安", ["security"]),
    ("其他", ["service"]),
]

# grade: respond, written, plan, progress, general manager (minutes)
CLOCKS = {
    Grade.EXTREME: (10, 30, 60, 120, 30),
    Grade.MAJOR: (20, 45, 90, 180, 60),
    Grade.LARGER: (30, 60, 120, 240, 120),
    Grade.GENERAL: (30, 60, 120, 240, 120),
}

# department code (None = company): [(shift, start hour, end hour, username)]
ROSTER = {
    None: [("全天", 8, 32, "leader")],
    "engineering": [("白班", 8, 20, "eng_staff"), ("夜班", 20, 32, "eng_staff2")],
    "security": [("白班", 8, 20, "sec_staff"), ("夜班", 20, 32, "sec_liaison")],
    "service": [("白班", 8, 20, "cs_staff"), ("夜班", 20, 32, "cs_staff2")],
    "sunshine": [("白班", 8, 20, "site_staff"), ("夜班", 20, 32, "site_head")],
    "riverside": [("白班", 8, 20, "site2_staff"), ("夜班", 20, 32, "site2_head")],
}

MOBILES = {
    "eng_staff": "13800000601", "eng_staff2": "13800000602", "sec_staff": "13800000701",
    "sec_liaison": "13800000702", "cs_staff": "13800000501", "cs_staff2": "13800000502",
    "site_staff": "13800000902", "site_head": "13800000901", "site2_staff": "13800001002",
    "site2_head": "13800001001", "leader": "13800000002", "gm": "13800000001", "eng_head": "13800000600",
}


def seed_emergencies(log) -> None:
    with transaction.atomic():
        types = _types()
        for grade, (r, w, p, g, gm) in CLOCKS.items():
            ClockPolicy.objects.get_or_create(event_type=None, grade=grade, defaults={
                "respond_minutes": r, "written_minutes": w, "plan_minutes": p, "progress_minutes": g,
                "gm_minutes": gm})
        # 电梯困人 runs on its own, shorter clock (an example of a per-type row).
        ClockPolicy.objects.get_or_create(event_type=types["电梯困人"], grade=Grade.GENERAL, defaults={
            "respond_minutes": 15, "written_minutes": 60, "plan_minutes": 90, "progress_minutes": 240,
            "gm_minutes": 120})
        users = {u.username: u for u in User.objects.all()}
        for username, mobile in MOBILES.items():
            if username in users and not users[username].mobile:
                users[username].mobile = mobile
                users[username].save(update_fields=["mobile"])
        today = timezone.localdate()
        monday = today - dt.timedelta(days=today.weekday())
        created = _rosters(monday - dt.timedelta(days=7), 14, users)
    log(f"紧急事项：{len(types)} 个事件类型，新增值班安排 {created} 条")
    _events(types, users, log)


def _types() -> dict[str, EmergencyType]:
    depts = {d.code: d for d in Department.objects.all()}
    result = {}
    for order, (name, codes) in enumerate(TYPES):
        et, created = EmergencyType.objects.get_or_create(name=name, defaults={"sort_order": order * 10})
        if created:
            et.departments.set([depts[c] for c in codes if c in depts])
        result[name] = et
    return result


def _rosters(first: dt.date, days: int, users) -> int:
    depts = {d.code: d for d in Department.objects.all()}
    tz = timezone.get_current_timezone()
    created = 0
    for offset in range(days):
        day = first + dt.timedelta(days=offset)
        base = timezone.make_aware(dt.datetime.combine(day, dt.time()), tz)
        for code, shifts in ROSTER.items():
            dept = depts.get(code) if code else None
            if code and dept is None:
                continue
            for name, start, end, username in shifts:
                person = users.get(username)
                if person is None:
                    continue
                _obj, was = DutyShift.objects.get_or_create(
                    department=dept, person=person, starts_at=base + dt.timedelta(hours=start),
                    defaults={"date": day, "shift": name, "ends_at": base + dt.timedelta(hours=end)},
                )
                created += was
    return created


def _events(types, users, log) -> None:
    from .sweep import sweep

    now = timezone.now()
    site = Department.objects.filter(code="sunshine").first()
    if site is None or "site_staff" not in users:
        return
    if not Emergency.objects.filter(idempotency_key="demo-closed").exists():
        start = now - dt.timedelta(days=6, hours=3)
        e, _created = services.report_emergency(
            users["site_staff"], idempotency_key="demo-closed", event_type=types["漏水"], site=site,
            location="5 号楼地下车库", description="消防管道接口漏水，积水约 5 厘米。", when=start)
        helper = e.paged.filter(reason="duty").exclude(user=users["site_staff"]).first()
        actor = helper.user if helper else users["eng_head"]
        services.acknowledge(e, actor, when=start + dt.timedelta(minutes=9))
        services.add_update(e, actor, kind="written", text="已关闭阀门，正在抽水。", when=start + dt.timedelta(minutes=40))
        services.add_update(e, actor, kind="plan", text="更换接口密封圈，清理积水。", when=start + dt.timedelta(minutes=80))
        services.change_status(e, actor, "controlled", when=start + dt.timedelta(minutes=95))
        services.change_status(e, actor, "recovered", when=start + dt.timedelta(hours=5))
        sweep(start + dt.timedelta(hours=5, minutes=1))
        services.submit_review(
            e, users["eng_head"], cause="接口密封圈老化。", lessons="地下管道接口纳入季度巡检。",
            measures_text=(f"全面排查地下车库管道接口 | eng_head | {(now + dt.timedelta(days=14)).date()}\n"
                           f"车库积水报警器加装 | sec_head | {(now + dt.timedelta(days=21)).date()}"),
            when=start + dt.timedelta(days=1))
        log(f"紧急事项：已复盘的演示事件 {e.number}")
    if not Emergency.objects.filter(idempotency_key="demo-under-way").exists():
        start = now - dt.timedelta(minutes=100)
        e, _created = services.report_emergency(
            users["site_staff"], idempotency_key="demo-under-way", event_type=types["电梯困人"], site=site,
            location="3 号楼 2 号电梯", description="电梯停在 8-9 层之间，2 人被困，无人受伤。", when=start)
        actor = users.get("eng_staff") if e.paged.filter(user=users.get("eng_staff")).exists() else users["eng_head"]
        services.acknowledge(e, actor, when=start + dt.timedelta(minutes=6))
        services.add_update(e, actor, kind="written", text="已到场，安抚被困人员，联系维保单位。",
                            when=start + dt.timedelta(minutes=35))
        sweep(now)  # 处置方案 was due after 90 minutes (电梯困人's own clock): escalated
        log(f"紧急事项：处置中的演示事件 {e.number}（处置方案已超时）")
