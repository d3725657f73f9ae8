"""The weekly pack (周例会材料): per participating department, its matters new, accepted,
resolved, overdue and escalated since the previous meeting of the series, and its open
decisions, so the meeting starts from the records instead of oral reports."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from matters.models import OPEN_STATUSES, Matter
from portal.notifications.services import notify

from .models import Decision, Meeting, MeetingStatus

SECTIONS = [
    ("new", _("新增事项")),
    ("accepted", _("已受理")),
    ("resolved", _("已办结")),
    ("overdue", _("逾期事项")),
    ("escalated", _("已上报")),
]


def previous_meeting_start(meeting: Meeting) -> dt.datetime:
    prev = (
        Meeting.objects.filter(type=meeting.type, start__lt=meeting.start)
        .exclude(status__in=[MeetingStatus.CANCELLED, MeetingStatus.REFUSED])
        .order_by("-start").values_list("start", flat=True).first()
    )
    return prev or meeting.start - dt.timedelta(days=7)


def department_pack(meeting: Meeting, department, *, matters=None) -> dict:
    since = previous_meeting_start(meeting)
    now = timezone.now()
    qs = (matters if matters is not None else Matter.objects.all()).filter(lead_department=department)
    rows = list(
        qs.filter(
            Q(created_at__gte=since) | Q(accepted_at__gte=since) | Q(resolved_at__gte=since)
            | Q(status__in=OPEN_STATUSES, current_due_at__lt=now) | Q(escalation_level__gt=0, status__in=OPEN_STATUSES)
        ).select_related("handler").order_by("current_due_at", "pk")
    )
    sections = {key: [] for key, _label in SECTIONS}
    for m in rows:
        if m.created_at >= since:
            sections["new"].append(m)
        if m.accepted_at and m.accepted_at >= since:
            sections["accepted"].append(m)
        if m.resolved_at and m.resolved_at >= since:
            sections["resolved"].append(m)
        if m.is_overdue_at(now):
            sections["overdue"].append(m)
        if m.escalation_level and m.status in OPEN_STATUSES:
            sections["escalated"].append(m)
    decisions = list(Decision.objects.open().filter(responsible_department=department)
                     .select_related("meeting", "responsible_person").order_by("due_date"))
    return {"department": department, "since": since, "sections": [(k, label, sections[k]) for k, label in SECTIONS],
            "decisions": decisions}


def pack_xlsx(pack: dict) -> bytes:
    from .reports import _workbook

    rows = []
    for _key, label, items in pack["sections"]:
        for m in items:
            rows.append([str(label), m.reference, m.title, m.get_status_display(),
                         m.handler.get_full_name() if m.handler_id else "",
                         timezone.localtime(m.current_due_at).strftime("%Y-%m-%d %H:%M") if m.current_due_at else ""])
    for d in pack["decisions"]:
        rows.append([str(_("未完成决议")), "", d.text, str(_("逾期")) if d.is_overdue else str(_("办理中")),
                     d.responsible_person.get_full_name() if d.responsible_person_id else "", d.due_date.isoformat()])
    return _workbook([_("类别"), _("编号"), _("事项/决议"), _("状态"), _("经办/责任人"), _("时限")], rows,
                     str(_("周例会材料")))


def send_weekly_packs(now=None) -> int:
    """The day before each standing meeting, every participating department's head and liaisons get
    the link to their pack. Idempotent (one event per meeting and department)."""
    from .permissions import heads_and_liaisons

    now = now or timezone.now()
    n = 0
    upcoming = Meeting.objects.filter(status=MeetingStatus.SCHEDULED, type__recur_weekday__isnull=False,
                                      start__gt=now, start__lte=now + dt.timedelta(hours=24))
    for meeting in upcoming:
        dept_ids = set(meeting.participants.exclude(department__isnull=True).values_list("department_id", flat=True))
        for dept_id in dept_ids:
            url = reverse("meetings:pack", args=[meeting.pk]) + f"?department={dept_id}"
            n += notify(heads_and_liaisons(dept_id), kind="meeting.notice", event_key=f"meeting:{meeting.pk}:pack:{dept_id}",
                        title=_("周例会材料已生成：%s") % meeting.subject, url=url, channels=["inbox", "email"])
    return n
