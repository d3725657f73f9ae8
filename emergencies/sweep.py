"""The minute sweep: milestones past their clock time are marked missed and escalated once.

Reads only events whose ``next_due_at`` has passed (an index), so 1,000 open events with one
due cost the queries of one. Each milestone is claimed with a conditional UPDATE
(``missed_at IS NULL``) and its pages carry an event key, so a sweep run twice, or by two
workers at once, or again after the worker was killed half-way, escalates each miss once.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.models import Department, Role
from portal.models.people import users_with_role

from . import services
from .models import OPEN_STATUSES, Emergency, EntryKind, Milestone, MilestoneKind


def sweep(now: dt.datetime | None = None) -> dict:
    now = now or timezone.now()
    due_ids = list(
        Emergency.objects.filter(status__in=OPEN_STATUSES, next_due_at__lte=now).values_list("pk", flat=True)
    )
    missed = 0
    for pk in due_ids:
        missed += sweep_one(pk, now)
    from .phone import send_stale

    return {"events": len(due_ids), "missed": missed, "phoned": send_stale(now)}


def sweep_one(pk: int, now: dt.datetime) -> int:
    with transaction.atomic():
        emergency = (
            Emergency.objects.select_for_update().select_related("event_type", "site").filter(pk=pk).first()
        )
        if emergency is None or emergency.status not in OPEN_STATUSES:
            return 0
        count = 0
        _voice_warning(emergency, now)
        due = emergency.milestones.filter(
            met_at__isnull=True, missed_at__isnull=True, cancelled=False, due_at__lte=now
        ).order_by("due_at")
        for milestone in due:
            claimed = Milestone.objects.filter(pk=milestone.pk, missed_at__isnull=True, met_at__isnull=True).update(
                missed_at=now
            )
            if not claimed:
                continue
            count += 1
            escalate(emergency, milestone, now)
        services._refresh_next_due(emergency)
    return count


def _voice_warning(emergency: Emergency, now: dt.datetime) -> None:
    """响应 about to pass and nobody has acknowledged: phone the people on duty (once)."""
    from .phone import queue_messages

    respond = emergency.milestones.filter(
        kind=MilestoneKind.RESPOND, met_at__isnull=True, missed_at__isnull=True, cancelled=False,
        warned_at__isnull=True, due_at__lte=now + services.VOICE_LEAD,
    ).first()
    if respond is None or emergency.acknowledged_at is not None:
        return
    if not Milestone.objects.filter(pk=respond.pk, warned_at__isnull=True).update(warned_at=now):
        return
    on_duty = [p.user for p in emergency.paged.filter(reason="duty").select_related("user")]
    ids = queue_messages(emergency, on_duty, channel="voice", event="respond-warning",
                         params=services.sms_params(emergency)[1:], when=now)
    services._entry(emergency, EntryKind.PHONE, None,
                    _("响应时限将到，仍无人响应：已给当班人员打语音电话（%d 人）。") % len(ids), {"messages": ids}, now)


def escalate(emergency: Emergency, milestone: Milestone, now: dt.datetime) -> None:
    depts = list(Department.objects.filter(pk__in=emergency.departments.values("pk")).select_related(
        "head", "supervising_leader"))
    heads = [(d.head, "escalation", d.pk) for d in depts]
    leaders = [(d.supervising_leader, "leader", d.pk) for d in depts]
    if milestone.kind == MilestoneKind.GM:
        targets = [(u, "gm", None) for u in users_with_role(Role.GENERAL_MANAGER)]
        text = _("发生后 %(m)s 仍未控制，已报总经理。") % {"m": _minutes(emergency, milestone)}
    elif milestone.kind == MilestoneKind.RESPOND:
        targets = heads + leaders
        text = _("无人在时限内响应，已呼叫部门负责人和分管领导。")
    else:
        targets = heads + leaders
        text = _("%(label)s超时（时限 %(due)s），已通知部门负责人和分管领导。") % {
            "label": milestone.get_kind_display(), "due": services._local(milestone.due_at)}
    if milestone.kind == MilestoneKind.PROGRESS:
        # The clock runs on: the next progress report is due one interval after this one.
        minutes = services.policy_for(emergency.event_type, emergency.grade)["progress"]
        Milestone.objects.get_or_create(
            emergency=emergency, kind=MilestoneKind.PROGRESS, seq=milestone.seq + 1,
            defaults={"due_at": milestone.due_at + dt.timedelta(minutes=minutes)},
        )
    title = _("【超时】%(number)s %(label)s未按时完成") % {
        "number": emergency.number, "label": milestone.get_kind_display()}
    if milestone.kind == MilestoneKind.GM:
        title = _("【报总经理】%(number)s %(type)s 仍未控制") % {
            "number": emergency.number, "type": emergency.event_type.name}
    services._page(emergency, targets, when=now, title=title, body=f"{emergency}。{text}",
                   event_suffix=f"missed:{milestone.kind}:{milestone.seq}", kind=services.KIND_ESCALATED)
    services._entry(emergency, EntryKind.MISSED, None, text,
                    {"milestone": milestone.kind, "seq": milestone.seq}, now)
    services._audit(emergency, "emergencies.missed", None, {"milestone": milestone.kind, "seq": milestone.seq})


def _minutes(emergency, milestone) -> int:
    return int((milestone.due_at - emergency.reported_at).total_seconds() // 60)
