"""Demo meetings (idempotent): the four coordination meeting types and 培训, two rooms, a 周例会
series with two past meetings (the later one with published minutes and five decisions, two of
them overdue), the next one with an agenda, and a 专题协调会 request waiting for approval."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from portal.models import Department, User
from portal.workdays import WorkCalendar

from . import services
from .models import Approver, Decision, Meeting, MeetingRoom, MeetingType, Minutes

TYPES = [
    # code, name, approver, request lead, notice lead, exempt, weekday, time, training
    ("weekly", "周例会", Approver.CHAIR, 0, 1, False, 0, dt.time(9, 0), False),
    ("monthly", "月度协调会", Approver.LEADER, 3, 2, False, None, None, False),
    ("topic", "专题协调会", Approver.LEADER, 3, 2, False, None, None, False),
    ("emergency", "紧急协调会", Approver.COORDINATOR, 0, 0, True, None, None, False),
    ("training", "跨部门沟通培训", Approver.COORDINATOR, 3, 2, False, None, None, True),
]


def seed_types(log=print) -> None:
    room, _c = MeetingRoom.objects.get_or_create(name="一号会议室", defaults={"location": "办公楼 3 楼", "capacity": 20})
    MeetingRoom.objects.get_or_create(name="二号会议室", defaults={"location": "办公楼 2 楼", "capacity": 8})
    coordinator = User.objects.filter(username="coordinator").first()
    leader = User.objects.filter(username="leader").first()
    for code, name, approver, req, notice, exempt, weekday, time, training in TYPES:
        mtype, created = MeetingType.objects.get_or_create(code=code, defaults={
            "name": name, "approver": approver, "request_lead_days": req, "notice_lead_days": notice,
            "lead_time_exempt": exempt, "recur_weekday": weekday, "recur_time": time, "is_training": training,
            "default_chair": leader if code == "weekly" else None, "recur_room": room if code == "weekly" else None,
        })
        if created and code == "weekly":
            mtype.standing_departments.set(Department.objects.filter(code__in=["engineering", "service", "security",
                                                                               "environment", "quality"]))
            if coordinator:
                mtype.standing_people.add(coordinator)
    log("  会议类型、会议室")


def seed_meetings(log=print) -> None:
    seed_types(log)
    weekly = MeetingType.objects.get(code="weekly")
    if Meeting.objects.filter(type=weekly, source="demo").exists():
        return
    users = {u.username: u for u in User.objects.filter(username__in=[
        "coordinator", "leader", "eng_head", "cs_head", "sec_head", "env_head", "qa_head", "eng_liaison", "cs_liaison"])}
    if len(users) < 9:
        return
    cal = WorkCalendar()
    coordinator, leader = users["coordinator"], users["leader"]
    room = MeetingRoom.objects.get(name="一号会议室")
    depts = {d.code: d for d in Department.objects.all()}
    today = timezone.localdate()
    monday = today - dt.timedelta(days=today.weekday())

    def at(day, hour):
        return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))

    past = []
    for weeks_ago in (2, 1):
        day = monday - dt.timedelta(weeks=weeks_ago)
        if not cal.is_workday(day):
            day = cal.next_workday(day)
        start = at(day, 9)
        m = services.request_meeting(
            mtype=weekly, subject=f"周例会（{day:%m-%d}）", organiser=coordinator, start=start,
            end=start + dt.timedelta(hours=1), room=room, chair=leader, source="demo", schedule_now=True,
            now=start - dt.timedelta(days=3),
        )
        for p in m.participants.all()[:5]:
            services.sign_in(m, p.user, token=m.checkin_token, now=start + dt.timedelta(minutes=2))
        past.append(m)
    first, second = past
    # The later past meeting: minutes with five decisions, published; two are overdue by now.
    due_past = second.start.date() + dt.timedelta(days=2)
    rows = [
        ("阳光花园 3 号楼电梯更换方案报公司审批", depts["engineering"], users["eng_head"], due_past),
        ("客服部整理本月投诉台账并分析原因", depts["service"], users["cs_head"], due_past),
        ("秩序部完成地下车库门禁排查", depts["security"], users["sec_head"], today + dt.timedelta(days=3)),
        ("环境部制定雨季排水巡查计划", depts["environment"], users["env_head"], today + dt.timedelta(days=10)),
        ("品质部牵头下月联合检查", depts["quality"], users["qa_head"], today + dt.timedelta(days=14)),
    ]
    services.save_minutes(
        second, coordinator, revision=0, summary="各部门汇报本周重点工作，协调电梯更换、投诉分析等事项。",
        discussion="一、电梯更换：工程部提出方案，需公司审批。\n二、投诉分析：客服部汇总本月投诉。",
        decisions=[{"text": t, "department": d, "person": p, "due_date": due} for t, d, p, due in rows],
        now=second.end + dt.timedelta(hours=2),
    )
    minutes = services.submit_minutes(Minutes.objects.get(meeting=second), coordinator)
    for s in minutes.signoffs.select_related("department__head"):
        services.sign_off_minutes(minutes, s.department.head, department=s.department)
    services.publish_minutes(minutes, leader, now=second.end + dt.timedelta(hours=5))
    Decision.objects.filter(meeting=second, due_date__lt=today).update(overdue_reason="")
    # The next 周例会 with an agenda (carried decisions + a submitted topic).
    created = services.ensure_standing_meetings(weeks=1)
    upcoming = Meeting.objects.filter(type=weekly, start__gt=timezone.now()).order_by("start").first()
    if upcoming is not None:
        upcoming.source = upcoming.source or "standing"
        services.carry_forward_decisions(upcoming)
        try:
            services.submit_agenda_item(upcoming, users["eng_head"], title="二次供水水箱清洗安排",
                                        note="需客服部提前通知业主。")
        except services.MeetingError:  # past the cut-off (demo loaded the day before): the secretary adds it
            services.submit_agenda_item(upcoming, coordinator, title="二次供水水箱清洗安排",
                                        note="需客服部提前通知业主。")
    # A 专题协调会 request waiting for the 分管领导's approval.
    topic = MeetingType.objects.get(code="topic")
    day = cal.next_workday(today)
    for _i in range(4):
        day = cal.next_workday(day)
    start = at(day, 14)
    services.request_meeting(
        mtype=topic, subject="阳光花园漏水维修责任划分专题协调会", reason="工程部与客服部对维修责任有分歧，需协调。",
        organiser=users["eng_head"], start=start, end=start + dt.timedelta(hours=1, minutes=30),
        room=MeetingRoom.objects.get(name="二号会议室"), departments=[depts["engineering"], depts["service"]],
        source="demo",
    )
    log(f"  协调会议：2 次已召开的周例会（5 条决议），{created} 次待召开，1 个专题协调会申请待审批")
