"""A routed matter's life as services: route, accept, progress, resolve, confirm or return,
archive, reassign, escalate, cooperate, wait for the submitter.

Each service locks the matter, checks the actor's right and the current state, records a
``MatterEvent`` (the history the ledgers and figures are computed from) and a Wagtail audit-log
entry, recomputes the deadlines and notifies the people concerned after commit. Errors are the
``services.MatterActionError`` family with a Chinese message.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.models import Department, Role
from portal.models.people import users_with_role
from portal.notifications.services import notify
from portal.workdays import WorkCalendar

from . import deadlines as D
from .models import (
    TRANSITIONS,
    Matter,
    MatterEvent,
    MatterStatus,
    Urgency,
    is_coordinator,
    user_department_ids,
)
from .services import MAX_COMMENT_LENGTH, InvalidInput, NotAllowed, WrongState, _audit
from .signals import matter_status_changed

WORKING = {MatterStatus.ACCEPTED, MatterStatus.IN_PROGRESS, MatterStatus.RETURNED}
STAGE_LABELS = {
    MatterStatus.ROUTED: _("受理"),
    MatterStatus.ACCEPTED: _("办结"),
    MatterStatus.IN_PROGRESS: _("办结"),
    MatterStatus.RETURNED: _("办结"),
    MatterStatus.RESOLVED: _("确认"),
}


# -- deadlines ------------------------------------------------------------------------------------


def policy_of(matter):
    from .rule_models import DeadlinePolicy

    if matter.policy_id:
        cached = getattr(matter, "_policy_cache", None)
        if cached is not None and cached.pk == matter.policy_id:
            return cached
        policy = DeadlinePolicy.objects.filter(pk=matter.policy_id).first()
    else:
        policy = None
    if policy is None:
        policy = DeadlinePolicy.objects.order_by("pk").first() or DeadlinePolicy(name="默认")
    matter._policy_cache = policy
    return policy


def refresh_deadlines(matter: Matter, cal: WorkCalendar | None = None, *, policy=None, status=None) -> None:
    """Recompute the current stage's deadlines from when the stage started (in memory).
    ``status`` computes them for a status the matter is about to move to."""
    cal = cal or WorkCalendar()
    policy = policy or policy_of(matter)
    start = matter.stage_started_at
    s = status or matter.status
    provisional = False
    due = None
    if s in OPEN_WITH_CLOCK and start is not None:
        if s == MatterStatus.ROUTED:
            d = D.add(cal, policy.unit, start, policy.accept_within)
            due = matter.accept_due = D.shift_by_pause(cal, policy.unit, d.at, matter.paused_hours)
        elif s in WORKING:
            d = D.add(cal, policy.unit, start, policy.resolve_for(matter.grade))
            due = matter.resolve_due = D.shift_by_pause(cal, policy.unit, d.at, matter.paused_hours)
            every = policy.progress_every_urgent if matter.urgency == Urgency.HIGH else policy.progress_every
            p = D.add(cal, policy.unit, matter.last_progress_at or start, every)
            matter.progress_due = D.shift_by_pause(cal, policy.unit, p.at, matter.paused_hours)
            provisional = p.provisional
        else:  # resolved: the originator's confirmation, always in working days
            d = D.add(cal, D.WORKDAYS, start, policy.confirm_within)
            due = matter.confirm_due = D.shift_by_pause(cal, D.WORKDAYS, d.at, matter.paused_hours)
        provisional = provisional or d.provisional
    if s not in WORKING:
        matter.progress_due = None
    matter.current_due_at = due
    matter.deadlines_provisional = provisional
    from .sweep import next_trigger

    matter.next_due_at = next_trigger(matter, cal, policy, after=matter.swept_until or start, status=s)


OPEN_WITH_CLOCK = {MatterStatus.ROUTED, *WORKING, MatterStatus.RESOLVED}
DEADLINE_FIELDS = [
    "accept_due",
    "resolve_due",
    "progress_due",
    "confirm_due",
    "current_due_at",
    "next_due_at",
    "deadlines_provisional",
]


def deadline_rows(matter: Matter) -> list[dict]:
    """Every deadline of the matter at once, for the detail page."""
    now = timezone.now()
    rows = []

    def row(label, due, done_at=None, current=False):
        if due is None:
            return
        state = "done" if done_at else ("overdue" if due < now and current else ("current" if current else "future"))
        rows.append({"label": label, "due": due, "done_at": done_at, "state": state, "late": bool(done_at and done_at > due)})

    s = matter.status
    row(_("受理时限"), matter.accept_due, matter.accepted_at, s == MatterStatus.ROUTED)
    row(_("下次进度更新"), matter.progress_due, None, s in WORKING)
    row(_("办结时限"), matter.resolve_due, matter.resolved_at if s not in WORKING else None, s in WORKING)
    if matter.commitment_date:
        rows.append({"label": _("承诺办结日期"), "due": matter.commitment_date, "state": "info", "date_only": True})
    row(_("提交人确认时限"), matter.confirm_due, matter.closed_at if s != MatterStatus.RESOLVED else None, s == MatterStatus.RESOLVED)
    return rows


# -- helpers --------------------------------------------------------------------------------------


def _lock(matter: Matter) -> Matter:
    return Matter.objects.select_for_update().get(pk=matter.pk)


def _move(
    matter: Matter,
    actor,
    new_status: str,
    *,
    kind: str,
    text: str = "",
    data: dict[str, Any] | None = None,
    when: dt.datetime | None = None,
) -> MatterEvent:
    """Record a status change (the row must be locked and checked by the caller)."""
    old = matter.status
    if new_status != old and new_status not in TRANSITIONS.get(old, set()):
        raise WrongState(
            _("事项当前为“%(old)s”，不能变为“%(new)s”。")
            % {"old": MatterStatus(old).label, "new": MatterStatus(new_status).label}
        )
    when = when or timezone.now()
    matter.status = new_status
    event = MatterEvent.objects.create(
        matter=matter,
        kind=kind,
        actor=actor,
        text=(text or "").strip()[:MAX_COMMENT_LENGTH],
        data={"from": old, "to": new_status, **(data or {})},
        created_at=when,
    )
    _audit(matter, f"matters.{kind}", actor, {"from": old, "to": new_status})
    if new_status != old:
        transaction.on_commit(
            lambda: matter_status_changed.send(
                sender=Matter, matter=matter, event=event, old_status=old, new_status=new_status, actor=actor
            )
        )
    return event


def _event(matter, actor, kind, text="", data=None, when=None) -> MatterEvent:
    event = MatterEvent.objects.create(
        matter=matter,
        kind=kind,
        actor=actor,
        text=(text or "").strip()[:MAX_COMMENT_LENGTH],
        data=data or {},
        created_at=when or timezone.now(),
    )
    _audit(matter, f"matters.{kind}", actor, data or {})
    return event


def _save(matter: Matter, *fields: str) -> None:
    matter.updated_at = timezone.now()
    matter.save(update_fields=sorted({*fields, *DEADLINE_FIELDS, "status", "updated_at"}))


def department_people(department_id) -> list:
    if not department_id:
        return []
    dept = Department.objects.select_related("head").prefetch_related("liaisons").filter(pk=department_id).first()
    if dept is None:
        return []
    people = [dept.head] if dept.head_id else []
    people += [u for u in dept.liaisons.all() if u not in people]
    return people


def supervising_leader(department_id):
    dept = Department.objects.select_related("supervising_leader").filter(pk=department_id).first()
    return dept.supervising_leader if dept and dept.supervising_leader_id else None


def _on_commit_notify(recipients, **kwargs) -> None:
    recipients = [r for r in recipients if r is not None]
    if recipients:
        transaction.on_commit(lambda: notify(recipients, **kwargs))


def _stage_key(matter: Matter) -> str:
    return f"{matter.status}@{matter.stage_started_at.isoformat() if matter.stage_started_at else ''}"


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None


def _text(text: str, *, required: str | None = None) -> str:
    text = (text or "").strip()
    if required and not text:
        raise InvalidInput(required)
    if len(text) > MAX_COMMENT_LENGTH:
        raise InvalidInput(_("内容太长，最多 %d 个字。") % MAX_COMMENT_LENGTH)
    return text


# -- permissions ----------------------------------------------------------------------------------


def can_handle(matter: Matter, user) -> bool:
    """The lead department's head and liaisons, the named handler, coordinators."""
    return bool(getattr(user, "is_authenticated", False)) and matter.can_change_status(user)


def is_originator(matter: Matter, user) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if user.pk == matter.submitter_id or is_coordinator(user):
        return True
    return bool(matter.submitter_department_id) and Department.objects.filter(
        pk=matter.submitter_department_id, head=user
    ).exists()


def is_cooperator(matter: Matter, user) -> bool:
    ids = user_department_ids(user)
    return bool(ids) and matter.cooperating_departments.filter(pk__in=ids).exists()


def allowed_actions(matter: Matter, user) -> set[str]:
    """What this person may do with the matter now (the detail page shows these forms)."""
    acts: set[str] = set()
    s = matter.status
    handle = can_handle(matter, user)
    if handle:
        if s == MatterStatus.ROUTED:
            acts |= {"accept", "reassign"}
        if s in WORKING:
            acts |= {"progress", "resolve", "reassign"}
        if matter.is_open and s != MatterStatus.SUBMITTED:
            acts.add("escalate")
            acts.add("resume" if matter.paused_at else "pause")
    if s == MatterStatus.RESOLVED and is_originator(matter, user):
        acts |= {"confirm", "return"}
    if s == MatterStatus.CONFIRMED and is_coordinator(user):
        acts.add("archive")
    if matter.is_open and s != MatterStatus.RESOLVED and is_cooperator(matter, user):
        acts.add("cooperate")
    if matter.paused_at and user.is_authenticated and user.pk == matter.submitter_id:
        acts.add("supplement")
    if is_coordinator(user) and s == MatterStatus.SUBMITTED:
        acts.add("route")
    return acts


def _require(matter: Matter, user, action: str, message: str) -> None:
    if action not in allowed_actions(matter, user):
        # Say "not allowed" when the person has no right at all, "wrong state" otherwise.
        if not (can_handle(matter, user) or is_originator(matter, user) or is_cooperator(matter, user)):
            raise NotAllowed(message)
        raise WrongState(
            _("事项当前为“%(status)s”，不能执行此操作。") % {"status": MatterStatus(matter.status).label}
        )


# -- routing --------------------------------------------------------------------------------------


def route_matter(matter: Matter, *, decision=None, actor=None, when: dt.datetime | None = None) -> Matter | None:
    """Apply the routing rules (or a given decision) to a 已提交 matter. Idempotent: a matter
    that is no longer 已提交 is left as it is (returns None)."""
    from . import routing

    with transaction.atomic():
        locked = _lock(matter)
        if locked.status != MatterStatus.SUBMITTED:
            return None
        inputs = routing.inputs_for_matter(locked)
        if decision is None:
            rules = routing.load_rules(locked.source_page_id)
            decision = routing.decide(rules, inputs, coordinator_department_id=routing.coordinator_department_id())
        when = when or timezone.now()
        locked.routing_rule_id = decision.rule_id
        locked.routing_version = decision.version
        locked.routing_data = {**decision.as_data(), "inputs": inputs.as_data()}
        locked.lead_department_id = decision.lead_department_id
        locked.grade = decision.grade
        locked.policy_id = decision.policy_id
        locked.routed_at = locked.stage_started_at = when
        locked.paused_hours = 0
        locked.swept_until = None
        refresh_deadlines(locked, status=MatterStatus.ROUTED)
        _move(
            locked,
            actor,
            MatterStatus.ROUTED,
            kind="routed",
            text=_("按规则“%(rule)s”分派。") % {"rule": decision.rule_name},
            data={
                "department": decision.lead_department_id,
                "due": _iso(locked.accept_due),
                "rule": decision.rule_id,
                "version": decision.version,
            },
            when=when,
        )
        _save(locked, "routing_rule", "routing_version", "routing_data", "lead_department", "grade", "policy",
              "routed_at", "stage_started_at", "paused_hours", "swept_until")
        locked.cooperating_departments.set(decision.cooperating_ids)
        _notify_routed(locked, decision)
    matter.refresh_from_db()
    return matter


def _notify_routed(matter: Matter, decision) -> None:
    url = matter.get_absolute_url()
    due = timezone.localtime(matter.accept_due).strftime("%m-%d %H:%M") if matter.accept_due else ""
    title = _("新事项待受理：%(ref)s %(title)s") % {"ref": matter.reference, "title": matter.title}
    body = _("请在 %s 前受理。") % due if due else ""
    _on_commit_notify(department_people(matter.lead_department_id), kind="matter.routed",
                      event_key=f"matter:{matter.pk}:routed:{_stage_key(matter)}", title=title, body=body, url=url)
    copies = []
    if decision.copy_leader:
        copies.append(supervising_leader(matter.lead_department_id))
    if decision.copy_coordinator:
        copies += list(users_with_role(Role.COORDINATOR))
    for dept_id in decision.cooperating_ids:
        copies += department_people(dept_id)
    _on_commit_notify(copies, kind="matter.copy", event_key=f"matter:{matter.pk}:copy:{_stage_key(matter)}",
                      title=_("抄送：%(ref)s %(title)s") % {"ref": matter.reference, "title": matter.title}, url=url)
    if matter.grade == "major":
        # 重大: escalated at once to the supervising leader.
        matter.escalation_level = max(matter.escalation_level, 2)
        matter.save(update_fields=["escalation_level"])
        _event(matter, None, "escalated", _("重大事项，已即时上报分管领导。"), {"level": 2, "auto": True})
        _on_commit_notify([supervising_leader(matter.lead_department_id)], kind="matter.escalated",
                          event_key=f"matter:{matter.pk}:major", title=_("重大事项上报：%(ref)s %(title)s")
                          % {"ref": matter.reference, "title": matter.title}, url=url)


def reassign(matter: Matter, actor, department: Department, reason: str) -> MatterEvent:
    reason = _text(reason, required=_("请填写改派原因。"))
    with transaction.atomic():
        locked = _lock(matter)
        _require(locked, actor, "reassign", _("只有牵头部门负责人、对接人、经办人或协调岗可以改派。"))
        if department is None or department.pk == locked.lead_department_id:
            raise InvalidInput(_("请选择另一个部门。"))
        old = locked.lead_department_id
        now = timezone.now()
        locked.lead_department_id = department.pk
        locked.handler = None
        locked.routed_at = locked.stage_started_at = now
        locked.paused_at, locked.paused_hours, locked.swept_until = None, 0, None
        locked.commitment_date = None
        locked.escalation_level = 0
        refresh_deadlines(locked, status=MatterStatus.ROUTED)
        event = _move(locked, actor, MatterStatus.ROUTED, kind="reassigned", text=reason,
                      data={"department": department.pk, "previous": old, "due": _iso(locked.accept_due)})
        locked.cooperating_departments.remove(department)
        _save(locked, "lead_department", "handler", "routed_at", "stage_started_at", "paused_at", "paused_hours",
              "swept_until", "commitment_date", "escalation_level")
        _on_commit_notify(department_people(department.pk), kind="matter.routed",
                          event_key=f"matter:{locked.pk}:routed:{_stage_key(locked)}",
                          title=_("改派给本部门：%(ref)s %(title)s") % {"ref": locked.reference, "title": locked.title},
                          body=reason, url=locked.get_absolute_url())
    return event


# -- the handling department ----------------------------------------------------------------------


def accept(matter: Matter, actor, *, handler, commitment_date: dt.date | None, text: str = "", when=None) -> MatterEvent:
    with transaction.atomic():
        locked = _lock(matter)
        _require(locked, actor, "accept", _("只有牵头部门负责人、对接人或协调岗可以受理。"))
        if handler is None or not handler.is_active:
            raise InvalidInput(_("请指定经办人。"))
        lead = locked.lead_department_id
        if not (
            handler.department_id == lead
            or Department.objects.filter(pk=lead).filter(_head_or_liaison(handler)).exists()
            or is_coordinator(handler)
        ):
            raise InvalidInput(_("经办人须是牵头部门的人员。"))
        when = when or timezone.now()
        if commitment_date and commitment_date < timezone.localdate(when):
            raise InvalidInput(_("承诺办结日期不能早于今天。"))
        due = locked.accept_due
        event = _move(locked, actor, MatterStatus.ACCEPTED, kind="accepted", text=_text(text),
                      data={"department": lead, "due": _iso(due), "handler": handler.pk,
                            "commitment": commitment_date.isoformat() if commitment_date else None},
                      when=when)
        locked.handler = handler
        locked.commitment_date = commitment_date
        locked.accepted_at = locked.stage_started_at = when
        locked.paused_hours, locked.swept_until, locked.escalation_level = 0, None, 0
        locked.last_progress_at = None
        refresh_deadlines(locked)
        _save(locked, "handler", "commitment_date", "accepted_at", "stage_started_at", "paused_hours", "swept_until",
              "escalation_level", "last_progress_at")
        _on_commit_notify([locked.submitter], kind="matter.progress", event_key=f"matter:{locked.pk}:accepted:{event.pk}",
                          title=_("您的事项已受理：%s") % locked.reference,
                          body=_("经办人：%s") % handler.get_full_name(), url=locked.get_absolute_url())
    return event


def _head_or_liaison(user):
    from django.db.models import Q

    return Q(head=user) | Q(liaisons=user)


def add_progress(matter: Matter, actor, text: str, *, when=None) -> MatterEvent:
    text = _text(text, required=_("请填写进度情况。"))
    with transaction.atomic():
        locked = _lock(matter)
        _require(locked, actor, "progress", _("只有牵头部门负责人、对接人或经办人可以更新进度。"))
        when = when or timezone.now()
        event = _move(locked, actor, MatterStatus.IN_PROGRESS, kind="progress", text=text,
                      data={"due": _iso(locked.progress_due)}, when=when)
        locked.last_progress_at = when
        refresh_deadlines(locked)
        _save(locked, "last_progress_at")
        _on_commit_notify([locked.submitter], kind="matter.progress", event_key=f"matter:{locked.pk}:progress:{event.pk}",
                          title=_("事项有新进度：%s") % locked.reference, body=text[:200], url=locked.get_absolute_url())
    return event


def resolve(matter: Matter, actor, report: str, *, when=None) -> MatterEvent:
    report = _text(report, required=_("请填写办结报告。"))
    with transaction.atomic():
        locked = _lock(matter)
        _require(locked, actor, "resolve", _("只有牵头部门负责人、对接人或经办人可以办结。"))
        when = when or timezone.now()
        event = _move(locked, actor, MatterStatus.RESOLVED, kind="resolved", text=report,
                      data={"department": locked.lead_department_id, "due": _iso(locked.resolve_due),
                            "since": _iso(locked.routed_at)}, when=when)
        locked.resolved_at = locked.stage_started_at = when
        locked.paused_at, locked.paused_hours, locked.swept_until = None, 0, None
        refresh_deadlines(locked)
        _save(locked, "resolved_at", "stage_started_at", "paused_at", "paused_hours", "swept_until")
        _on_commit_notify([locked.submitter], kind="matter.resolved", event_key=f"matter:{locked.pk}:resolved:{event.pk}",
                          title=_("事项已办结，请确认：%s") % locked.reference, body=report[:200],
                          url=locked.get_absolute_url())
    return event


def confirm(matter: Matter, actor, text: str = "", *, auto: bool = False, when=None) -> MatterEvent:
    with transaction.atomic():
        locked = _lock(matter)
        if auto:
            if locked.status != MatterStatus.RESOLVED:
                raise WrongState(_("事项不是“已办结”，不能自动确认。"))
        else:
            _require(locked, actor, "confirm", _("只有提交人（或其部门负责人、协调岗）可以确认。"))
        when = when or timezone.now()
        event = _move(locked, actor, MatterStatus.CONFIRMED, kind="confirmed", text=_text(text),
                      data={"auto": auto, "due": _iso(locked.confirm_due)}, when=when)
        locked.closed_at = when
        locked.paused_at = None
        refresh_deadlines(locked)
        _save(locked, "closed_at", "paused_at")
        _on_commit_notify(department_people(locked.lead_department_id), kind="matter.progress",
                          event_key=f"matter:{locked.pk}:confirmed:{event.pk}",
                          title=_("事项已确认闭环：%s") % locked.reference, url=locked.get_absolute_url())
    return event


def return_matter(matter: Matter, actor, reason: str) -> MatterEvent:
    reason = _text(reason, required=_("请填写退回原因。"))
    with transaction.atomic():
        locked = _lock(matter)
        _require(locked, actor, "return", _("只有提交人（或其部门负责人、协调岗）可以退回。"))
        now = timezone.now()
        event = _move(locked, actor, MatterStatus.RETURNED, kind="returned", text=reason,
                      data={"department": locked.lead_department_id})
        locked.stage_started_at = now
        locked.resolved_at = None
        locked.paused_hours, locked.swept_until, locked.escalation_level = 0, None, 0
        locked.last_progress_at = None
        refresh_deadlines(locked)
        _save(locked, "stage_started_at", "resolved_at", "paused_hours", "swept_until", "escalation_level",
              "last_progress_at")
        _on_commit_notify(department_people(locked.lead_department_id) + [locked.handler], kind="matter.returned",
                          event_key=f"matter:{locked.pk}:returned:{event.pk}",
                          title=_("事项被退回，请继续办理：%s") % locked.reference, body=reason,
                          url=locked.get_absolute_url())
    return event


def archive(matter: Matter, actor) -> MatterEvent:
    with transaction.atomic():
        locked = _lock(matter)
        _require(locked, actor, "archive", _("只有协调岗可以归档。"))
        event = _move(locked, actor, MatterStatus.ARCHIVED, kind="archived")
        refresh_deadlines(locked)
        _save(locked)
    return event


def escalate(matter: Matter, actor, reason: str) -> MatterEvent:
    """Manual escalation: one level up (分管领导, then 总经理)."""
    reason = _text(reason, required=_("请填写上报原因。"))
    with transaction.atomic():
        locked = _lock(matter)
        _require(locked, actor, "escalate", _("只有牵头部门负责人、对接人、经办人或协调岗可以上报。"))
        level = min(3, max(2, locked.escalation_level + 1))
        locked.escalation_level = level
        event = _event(locked, actor, "escalated", reason, {"level": level, "manual": True})
        locked.save(update_fields=["escalation_level", "updated_at"])
        _notify_escalation(locked, level, reason, key=f"manual:{event.pk}")
    return event


def _notify_escalation(matter: Matter, level: int, body: str, *, key: str, immediate: bool = False) -> None:
    if level >= 3:
        people = list(users_with_role(Role.GENERAL_MANAGER))
        who = _("总经理")
    else:
        people = [supervising_leader(matter.lead_department_id)]
        who = _("分管领导")
    kwargs = {
        "kind": "matter.escalated",
        "event_key": f"matter:{matter.pk}:escalated:{key}",
        "title": _("事项上报%(who)s：%(ref)s %(title)s") % {"who": who, "ref": matter.reference, "title": matter.title},
        "body": body,
        "url": matter.get_absolute_url(),
    }
    if immediate:  # the sweep: inside its own transaction, so it is sent exactly when the row is
        notify([p for p in people if p is not None], **kwargs)
    else:
        _on_commit_notify(people, **kwargs)


def cooperate(matter: Matter, actor, text: str) -> MatterEvent:
    """A cooperating department adds its part (配合意见)."""
    text = _text(text, required=_("请填写配合情况。"))
    with transaction.atomic():
        locked = _lock(matter)
        _require(locked, actor, "cooperate", _("只有配合部门的人员可以填写配合情况。"))
        ids = user_department_ids(actor) & set(locked.cooperating_departments.values_list("pk", flat=True))
        event = _event(locked, actor, "cooperation", text, {"departments": sorted(ids)})
        locked.save(update_fields=["updated_at"])
        _on_commit_notify(department_people(locked.lead_department_id) + [locked.handler], kind="matter.progress",
                          event_key=f"matter:{locked.pk}:cooperation:{event.pk}",
                          title=_("配合部门已回复：%s") % locked.reference, body=text[:200], url=locked.get_absolute_url())
    return event


def pause_for_submitter(matter: Matter, actor, question: str) -> MatterEvent:
    """Ask the submitter for more information; the clock stops until they answer."""
    question = _text(question, required=_("请写明需要提交人补充什么。"))
    with transaction.atomic():
        locked = _lock(matter)
        _require(locked, actor, "pause", _("只有牵头部门负责人、对接人或经办人可以要求补充。"))
        locked.paused_at = timezone.now()
        event = _event(locked, actor, "paused", question)
        locked.next_due_at = None
        locked.save(update_fields=["paused_at", "next_due_at", "updated_at"])
        _on_commit_notify([locked.submitter], kind="matter.progress", event_key=f"matter:{locked.pk}:paused:{event.pk}",
                          title=_("请补充事项信息：%s") % locked.reference, body=question, url=locked.get_absolute_url())
    return event


def resume(matter: Matter, actor, text: str = "", *, action: str = "resume") -> MatterEvent:
    """The submitter answered (补充说明) or the department resumes: deadlines move by the pause."""
    with transaction.atomic():
        locked = _lock(matter)
        _require(locked, actor, action, _("只有提交人或牵头部门可以恢复计时。"))
        cal = WorkCalendar()
        policy = policy_of(locked)
        now = timezone.now()
        unit = D.WORKDAYS if locked.status == MatterStatus.RESOLVED else policy.unit
        paused = D.paused_amount(cal, unit, locked.paused_at, now)
        locked.paused_hours = (locked.paused_hours or 0) + paused
        locked.paused_at = None
        event = _event(locked, actor, "resumed", _text(text), {"paused_hours": round(paused, 2)})
        refresh_deadlines(locked, cal, policy=policy)
        _save(locked, "paused_at", "paused_hours")
        _on_commit_notify(department_people(locked.lead_department_id) + [locked.handler], kind="matter.progress",
                          event_key=f"matter:{locked.pk}:resumed:{event.pk}",
                          title=_("提交人已补充，计时恢复：%s") % locked.reference, body=(text or "")[:200],
                          url=locked.get_absolute_url())
    return event
