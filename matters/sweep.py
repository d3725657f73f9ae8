"""The reminder and escalation sweep (a django-q2 schedule, every few minutes).

Each open matter stores ``next_due_at``, the next moment something is owed about it (a warning
before a deadline, the breach, an escalation step, a progress reminder, auto-confirmation).
The sweep reads only rows whose ``next_due_at`` has come (an index range scan), so its cost
follows the due matters, not all open ones. Rows are taken with
``SELECT ... FOR UPDATE SKIP LOCKED``; each row remembers ``swept_until``, so a trigger is
handled exactly once even when two workers sweep at the same moment, and the notification
``event_key`` dedupe is a second guard.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.workdays import WorkCalendar

from . import deadlines as D
from .models import Matter, MatterStatus

logger = logging.getLogger(__name__)

WORKING = {MatterStatus.ACCEPTED, MatterStatus.IN_PROGRESS, MatterStatus.RETURNED}
ONE_SECOND = dt.timedelta(seconds=1)
BATCH = 200


def triggers(matter: Matter, cal: WorkCalendar, policy, *, status=None) -> list[tuple[dt.datetime, str]]:
    """Every moment something is owed about the matter in its current stage."""
    status = status or matter.status
    if matter.paused_at or matter.current_due_at is None:
        return []
    due = matter.current_due_at
    if status == MatterStatus.RESOLVED:
        return [(due, "auto_confirm" if policy.auto_confirm else "confirm_remind")]
    if status not in WORKING and status != MatterStatus.ROUTED:
        return []
    unit = policy.unit
    # Offsets after a breach count from just before it, so "1 working day after a 17:30
    # deadline" is 17:30 on the next workday (the cut-off rule would otherwise skip a day).
    out = [(due, "breach")]
    if policy.remind_before_hours:
        out.append((D.before(cal, unit, due, float(policy.remind_before_hours)), "warn"))
    if policy.escalate_leader_after:
        out.append((D.add(cal, unit, due - ONE_SECOND, policy.escalate_leader_after).at, "leader"))
    if policy.escalate_gm_after:
        out.append((D.add(cal, unit, due - ONE_SECOND, policy.escalate_gm_after).at, "gm"))
    if status in WORKING and matter.progress_due:
        out.append((matter.progress_due, "progress"))
    return sorted(out)


def next_trigger(matter, cal, policy, *, after, status=None) -> dt.datetime | None:
    if after is None:
        return None
    later = [at for at, _kind in triggers(matter, cal, policy, status=status) if at > after]
    return min(later) if later else None


def _due_rows(now, batch):
    qs = Matter.objects.filter(next_due_at__lte=now).order_by("next_due_at")
    if connection.features.has_select_for_update_skip_locked:
        qs = qs.select_for_update(skip_locked=True, of=("self",))
    return list(qs[:batch])


def sweep(now: dt.datetime | None = None, *, batch: int = BATCH) -> dict:
    """Handle every trigger that has come; returns counts."""
    from .lifecycle import policy_of

    now = now or timezone.now()
    cal = WorkCalendar()
    policies: dict = {}
    counts = {"matters": 0, "actions": 0}
    seen: set[int] = set()
    while True:
        with transaction.atomic():
            rows = [m for m in _due_rows(now, batch) if m.pk not in seen]
            for matter in rows:
                seen.add(matter.pk)
                if matter.policy_id in policies:
                    matter._policy_cache = policies[matter.policy_id]
                policy = policies.setdefault(matter.policy_id, policy_of(matter))
                counts["actions"] += process(matter, now, cal, policy)
                counts["matters"] += 1
        if len(rows) < batch:
            break
    counts["routed"] = route_stragglers(now)
    return counts


def process(matter: Matter, now, cal, policy) -> int:
    """Handle the matter's triggers in (swept_until, now]; the row is locked by the caller."""
    done = 0
    if not matter.is_open or matter.paused_at:
        Matter.objects.filter(pk=matter.pk).update(next_due_at=None)
        return 0
    since = matter.swept_until or matter.stage_started_at or matter.created_at
    for at, kind in triggers(matter, cal, policy):
        if since < at <= now:
            if kind == "auto_confirm":
                _auto_confirm(matter, policy, at)
                return done + 1
            ACTIONS[kind](matter, at, cal, policy)
            done += 1
    matter.swept_until = now
    matter.next_due_at = next_trigger(matter, cal, policy, after=now)
    matter.save(update_fields=["swept_until", "next_due_at", "escalation_level", "progress_due"])
    return done


def _people_and_text(matter):
    from .lifecycle import STAGE_LABELS, department_people

    handler = [matter.handler] if matter.handler_id else []
    stage = STAGE_LABELS.get(matter.status, "")
    due = timezone.localtime(matter.current_due_at).strftime("%m-%d %H:%M")
    return handler, department_people(matter.lead_department_id), stage, due


def _key(matter, kind) -> str:
    return f"matter:{matter.pk}:{matter.status}@{matter.stage_started_at.isoformat()}:{kind}"


def _warn(matter, at, cal, policy):
    from portal.notifications.services import notify

    handler, dept, stage, due = _people_and_text(matter)
    notify(handler or dept, kind="matter.reminder", event_key=_key(matter, "warn"),
           title=_("【即将到期】%(ref)s %(title)s") % {"ref": matter.reference, "title": matter.title},
           body=_("%(stage)s时限：%(due)s。") % {"stage": stage, "due": due}, url=matter.get_absolute_url())


def _breach(matter, at, cal, policy):
    from portal.notifications.services import notify

    from .lifecycle import _event

    handler, dept, stage, due = _people_and_text(matter)
    matter.escalation_level = max(matter.escalation_level, 1)
    _event(matter, None, "overdue", _("%(stage)s已逾期（时限 %(due)s），已提醒部门负责人。") % {"stage": stage, "due": due},
           {"level": 1, "due": matter.current_due_at.isoformat(), "stage": matter.status}, when=at)
    notify(dept + handler, kind="matter.overdue", event_key=_key(matter, "breach"),
           title=_("【已逾期】%(ref)s %(title)s") % {"ref": matter.reference, "title": matter.title},
           body=_("%(stage)s时限 %(due)s 已过。") % {"stage": stage, "due": due}, url=matter.get_absolute_url())


def _escalate(level):
    def run(matter, at, cal, policy):
        from .lifecycle import _event, _notify_escalation

        _h, _d, stage, due = _people_and_text(matter)
        who = _("总经理") if level >= 3 else _("分管领导")
        text = _("%(stage)s逾期未办（时限 %(due)s），已上报%(who)s。") % {"stage": stage, "due": due, "who": who}
        if level > matter.escalation_level:
            matter.escalation_level = level
        _event(matter, None, "escalated", text, {"level": level, "auto": True, "stage": matter.status}, when=at)
        _notify_escalation(matter, level, text, key=f"{matter.status}@{matter.stage_started_at.isoformat()}:{level}",
                           immediate=True)

    return run


def _progress(matter, at, cal, policy):
    from portal.notifications.services import notify

    from .models import Urgency

    every = policy.progress_every_urgent if matter.urgency == Urgency.HIGH else policy.progress_every
    handler, dept, _stage, _due = _people_and_text(matter)
    notify(handler or dept, kind="matter.reminder", event_key=_key(matter, f"progress:{at.isoformat()}"),
           title=_("【请更新进度】%(ref)s %(title)s") % {"ref": matter.reference, "title": matter.title},
           url=matter.get_absolute_url())
    matter.progress_due = D.add(cal, policy.unit, at - ONE_SECOND, every).at


def _confirm_remind(matter, at, cal, policy):
    from portal.notifications.services import notify

    notify([matter.submitter], kind="matter.reminder", event_key=_key(matter, "confirm"),
           title=_("【请确认办结】%s") % matter.reference, url=matter.get_absolute_url())


def _auto_confirm(matter, policy, at):
    from .lifecycle import confirm

    confirm(matter, None, policy.auto_confirm_note, auto=True, when=at)


ACTIONS = {
    "warn": _warn,
    "breach": _breach,
    "leader": _escalate(2),
    "gm": _escalate(3),
    "progress": _progress,
    "confirm_remind": _confirm_remind,
}


def route_stragglers(now, older_than=dt.timedelta(minutes=2)) -> int:
    """Matters still 已提交 a while after submission (a routing failure): route them now."""
    from .lifecycle import route_matter

    count = 0
    for matter in Matter.objects.filter(status=MatterStatus.SUBMITTED, created_at__lte=now - older_than)[:100]:
        try:
            if route_matter(matter):
                count += 1
        except Exception:  # one bad matter must not stop the others
            logger.exception("Routing matter %s failed", matter.pk)
    return count
