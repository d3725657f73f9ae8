"""Writing meetings: request, decide, move, cancel, answer, sign in, agenda, minutes, decisions.

Every action runs in ``transaction.atomic``, checks the actor's right and the object's state,
writes a Wagtail audit-log entry and queues its notifications on commit. Errors are
``MeetingError`` subclasses whose ``str()`` is the Chinese message views show as is.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wagtail.log_actions import log

from matters.models import is_coordinator
from portal.models import Department, Role, User
from portal.models.people import users_with_role
from portal.notifications.services import notify
from portal.workdays import WorkCalendar, add_clock_hours

from .models import (
    AgendaItem,
    Approver,
    Decision,
    DecisionState,
    Meeting,
    MeetingStatus,
    MeetingType,
    Minutes,
    MinutesReceipt,
    MinutesSignoff,
    MinutesStatus,
    Participant,
    Response,
    SignInRefusal,
)
from .permissions import MeetingPermissions, can_organise, heads_and_liaisons

KIND_REQUEST = "meeting.request"
KIND_DECIDED = "meeting.decided"
KIND_NOTICE = "meeting.notice"
KIND_CHANGED = "meeting.changed"
KIND_MINUTES = "meeting.minutes"
KIND_MINUTES_OVERDUE = "meeting.minutes_overdue"
KIND_DECISION_OVERDUE = "meeting.decision_overdue"
KIND_WEEKLY = "meeting.weekly_report"

MAX_TEXT = 5000
SIGN_IN_OPENS = dt.timedelta(minutes=30)


class MeetingError(Exception):
    pass


class NotAllowed(MeetingError, PermissionDenied):
    pass


class InvalidInput(MeetingError):
    pass


class WrongState(MeetingError):
    pass


def _audit(instance, action: str, actor, data: dict | None = None) -> None:
    log(instance=instance, action=action, user=actor, title=str(instance)[:255], data=data or {})


def _notify_on_commit(recipients, **kwargs) -> None:
    people = [r for r in dict.fromkeys(recipients) if r is not None]
    if people:
        transaction.on_commit(lambda: notify(people, **kwargs))


def _text(value: str, *, required: str | None = None, limit: int = MAX_TEXT) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(required)
    if len(value) > limit:
        raise InvalidInput(_("内容太长，最多 %d 个字。") % limit)
    return value


def _fmt(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


# -- lead times -----------------------------------------------------------------------------------


def latest_request_time(mtype: MeetingType, start: dt.datetime, cal: WorkCalendar | None = None) -> dt.datetime:
    """The last moment a request for a meeting at ``start`` is on time: ``request_lead_days``
    working days before the meeting's day."""
    cal = cal or WorkCalendar()
    day = timezone.localtime(start).date()
    n = mtype.request_lead_days
    while n > 0:
        day -= dt.timedelta(days=1)
        if cal.is_workday(day):
            n -= 1
    return timezone.make_aware(dt.datetime.combine(day, timezone.localtime(start).time()))


def is_inside_lead_time(mtype: MeetingType, start, now) -> bool:
    if mtype.lead_time_exempt or mtype.request_lead_days == 0:
        return False
    return now > latest_request_time(mtype, start)


def next_occurrence(mtype: MeetingType, after: dt.datetime, cal: WorkCalendar | None = None) -> dt.datetime | None:
    """The standing meeting's next start after ``after``: its weekday and time, moved to the next
    working day when that day is not one."""
    if mtype.recur_weekday is None or mtype.recur_time is None:
        return None
    cal = cal or WorkCalendar()
    local = timezone.localtime(after)
    day = local.date()
    for _i in range(14):
        if day.weekday() == mtype.recur_weekday:
            actual = day if cal.is_workday(day) else cal.next_workday(day)
            start = timezone.make_aware(dt.datetime.combine(actual, mtype.recur_time))
            if start > after:
                return start
        day += dt.timedelta(days=1)
    return None


# -- participants ---------------------------------------------------------------------------------


def approver_for(mtype: MeetingType, department: Department | None, chair) -> User | None:
    if mtype.approver == Approver.CHAIR and chair is not None:
        return chair
    if mtype.approver == Approver.COORDINATOR:
        return users_with_role(Role.COORDINATOR).order_by("pk").first()
    if department is not None and department.supervising_leader_id:
        return department.supervising_leader
    return chair or users_with_role(Role.COORDINATOR).order_by("pk").first()


def _invitees(mtype: MeetingType, departments, people, chair) -> list[tuple[User, int | None]]:
    result: dict[int, tuple[User, int | None]] = {}
    depts = list(departments) + [d for d in mtype.standing_departments.all() if d not in departments]
    for dept in depts:
        if dept.head_id and dept.head.is_active:
            result.setdefault(dept.head_id, (dept.head, dept.pk))
    for person in [*people, *mtype.standing_people.all()]:
        result.setdefault(person.pk, (person, person.department_id))
    for role in mtype.standing_roles.all():
        for person in role.users():
            result.setdefault(person.pk, (person, person.department_id))
    if chair is not None:
        result.setdefault(chair.pk, (chair, chair.department_id))
    return [v for v in result.values() if v[0].is_active]


def _check_time(start, end, *, now) -> None:
    if start is None or end is None:
        raise InvalidInput(_("请填写开始和结束时间。"))
    if end <= start:
        raise InvalidInput(_("结束时间必须晚于开始时间。"))
    if start < now:
        raise InvalidInput(_("会议时间不能早于现在。"))
    if end - start > dt.timedelta(hours=12):
        raise InvalidInput(_("一次会议最长 12 小时。"))


def _check_time_and_room(start, end, room, *, now, exclude_pk=None) -> None:
    _check_time(start, end, now=now)
    if room is not None:
        # The room row is the lock: two requests for the same room wait for each other, so the
        # overlap query below sees the other's meeting (a range query alone would let both in).
        from .models import MeetingRoom

        room = MeetingRoom.objects.select_for_update().get(pk=room.pk)
        if not room.is_active:
            raise InvalidInput(_("会议室“%s”暂停预订。") % room.name)
        clash = (
            Meeting.objects.overlapping(room, start, end).exclude(pk=exclude_pk).order_by("start").first()
        )
        if clash is not None:
            raise InvalidInput(
                _("会议室“%(room)s”在 %(start)s–%(end)s 已被“%(subject)s”占用，请换时间或会议室。")
                % {"room": room.name, "start": _fmt(clash.start), "end": timezone.localtime(clash.end).strftime("%H:%M"),
                   "subject": clash.subject}
            )


def request_meeting(
    *,
    mtype: MeetingType,
    subject: str,
    organiser,
    start,
    end,
    reason: str = "",
    room=None,
    place: str = "",
    departments=(),
    people=(),
    related_matters=(),
    chair=None,
    lead_time_reason: str = "",
    source: str = "request",
    schedule_now: bool = False,
    now=None,
) -> Meeting:
    """会议申请. Goes to the approver of the type; ``schedule_now`` (standing meetings, other apps'
    hooks for urgent meetings) schedules it at once."""
    now = now or timezone.now()
    if not schedule_now and not can_organise(organiser):
        raise NotAllowed(_("只有部门负责人、分管领导或协调岗可以申请会议。"))
    subject = _text(subject, required=_("请填写会议主题。"), limit=200)
    reason = _text(reason)
    if room is None and not (place or "").strip():
        raise InvalidInput(_("请选择会议室或填写地点。"))
    chair = chair or mtype.default_chair
    _check_time(start, end, now=now)
    inside = is_inside_lead_time(mtype, start, now)
    lead_time_reason = _text(lead_time_reason)
    if inside and not lead_time_reason and not schedule_now:
        raise InvalidInput(
            _("距会议不足 %d 个工作日，请填写提前期不足的理由（紧急协调会除外）。") % mtype.request_lead_days
        )
    department = organiser.department if organiser.department_id else None
    with transaction.atomic():
        _check_time_and_room(start, end, room, now=now)
        meeting = Meeting.objects.create(
            type=mtype, subject=subject, reason=reason, organiser=organiser, organiser_department=department,
            chair=chair, approver_user=approver_for(mtype, department, chair), room=room,
            place=(place or "").strip()[:200], start=start, end=end, inside_lead_time=inside,
            lead_time_reason=lead_time_reason, source=source, status=MeetingStatus.REQUESTED, created_at=now,
        )
        meeting.departments.set(departments)
        meeting.related_matters.set(related_matters)
        for user, dept_id in _invitees(mtype, list(departments), list(people), chair):
            Participant.objects.create(meeting=meeting, user=user, department_id=dept_id)
        _audit(meeting, "meetings.request", organiser, {"start": start.isoformat(), "inside_lead_time": inside})
        if schedule_now:
            _schedule(meeting, organiser, now=now, note="")
        else:
            _notify_on_commit(
                [meeting.approver_user], kind=KIND_REQUEST, event_key=f"meeting:{meeting.pk}:request",
                title=_("会议申请待审批：%s") % subject,
                body=_("%(who)s 申请 %(when)s 召开%(type)s。%(flag)s") % {
                    "who": organiser.get_full_name(), "when": _fmt(start), "type": mtype.name,
                    "flag": _("（未满提前期：%s）") % lead_time_reason if inside else ""},
                url=meeting.get_absolute_url(),
            )
    return meeting


def _schedule(meeting: Meeting, actor, *, now, note: str) -> None:
    meeting.status = MeetingStatus.SCHEDULED
    meeting.decided_by = actor
    meeting.decided_at = now
    meeting.decision_note = note
    meeting.minutes_due_at = add_clock_hours(meeting.end, meeting.type.minutes_hours).at
    meeting.save()
    _audit(meeting, "meetings.schedule", actor, {"note": note})
    _send_notice(meeting, KIND_NOTICE, _("会议通知：%s") % meeting.subject)


def _send_notice(meeting: Meeting, kind: str, title: str, body_extra: str = "") -> None:
    people = [p.user for p in meeting.participants.select_related("user")]
    body = _("时间：%(when)s；地点：%(where)s。请在会议页答复参加、请假或代参会，并可下载日历邀请。%(extra)s") % {
        "when": _fmt(meeting.start), "where": meeting.where, "extra": body_extra}
    _notify_on_commit(
        [*people, meeting.organiser], kind=kind, event_key=f"meeting:{meeting.pk}:{kind}:{meeting.sequence}",
        title=title, body=body, url=meeting.get_absolute_url(),
    )


def _locked(meeting: Meeting) -> Meeting:
    return Meeting.objects.select_for_update(of=("self",)).select_related("type", "room").get(pk=meeting.pk)


def approve_meeting(meeting: Meeting, actor, *, note: str = "", now=None) -> Meeting:
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(meeting)
        if not MeetingPermissions(actor, locked).can_decide:
            if locked.status != MeetingStatus.REQUESTED:
                raise WrongState(_("该会议已审批过。"))
            raise NotAllowed(_("您不是该会议的审批人。"))
        if locked.start < now:
            raise InvalidInput(_("会议时间已过，请调整时间后再批准。"))
        _schedule(locked, actor, now=now, note=_text(note))
        _notify_on_commit([locked.organiser], kind=KIND_DECIDED, event_key=f"meeting:{locked.pk}:approved",
                          title=_("会议申请已批准：%s") % locked.subject, url=locked.get_absolute_url())
    return locked


def refuse_meeting(meeting: Meeting, actor, *, reason: str) -> Meeting:
    reason = _text(reason, required=_("请填写不批准的理由。"))
    with transaction.atomic():
        locked = _locked(meeting)
        if not MeetingPermissions(actor, locked).can_decide:
            if locked.status != MeetingStatus.REQUESTED:
                raise WrongState(_("该会议已审批过。"))
            raise NotAllowed(_("您不是该会议的审批人。"))
        locked.status = MeetingStatus.REFUSED
        locked.decided_by, locked.decided_at, locked.decision_note = actor, timezone.now(), reason
        locked.save()
        _audit(locked, "meetings.refuse", actor, {"reason": reason})
        _notify_on_commit([locked.organiser], kind=KIND_DECIDED, event_key=f"meeting:{locked.pk}:refused",
                          title=_("会议申请未批准：%s") % locked.subject, body=reason, url=locked.get_absolute_url())
    return locked


def move_meeting(meeting: Meeting, actor, *, start, end, room=None, place: str = "", reason: str, now=None) -> Meeting:
    """Move a requested (the approver's 改期) or scheduled meeting; the calendar entry keeps its UID
    with a higher SEQUENCE."""
    now = now or timezone.now()
    reason = _text(reason, required=_("请填写改期理由。"))
    with transaction.atomic():
        locked = _locked(meeting)
        perms = MeetingPermissions(actor, locked)
        if locked.status not in {MeetingStatus.REQUESTED, MeetingStatus.SCHEDULED}:
            raise WrongState(_("该会议已%s，不能改期。") % locked.get_status_display())
        if not (perms.can_manage or perms.can_decide or actor.pk == locked.approver_user_id):
            raise NotAllowed(_("只有会议组织人、主持人、审批人或协调岗可以改期。"))
        if room is None and not (place or locked.place):
            raise InvalidInput(_("请选择会议室或填写地点。"))
        _check_time_and_room(start, end, room, now=now, exclude_pk=locked.pk)
        old = locked.start
        locked.start, locked.end, locked.room = start, end, room
        if place:
            locked.place = place.strip()[:200]
        locked.sequence += 1
        if locked.status == MeetingStatus.SCHEDULED:
            locked.minutes_due_at = add_clock_hours(end, locked.type.minutes_hours).at
        locked.save()
        _audit(locked, "meetings.move", actor, {"from": old.isoformat(), "to": start.isoformat(), "reason": reason})
        if locked.status == MeetingStatus.SCHEDULED:
            _send_notice(locked, KIND_CHANGED, _("会议改期：%s") % locked.subject, _("改期理由：%s") % reason)
    return locked


def cancel_meeting(meeting: Meeting, actor, *, reason: str) -> Meeting:
    reason = _text(reason, required=_("请填写取消理由。"))
    with transaction.atomic():
        locked = _locked(meeting)
        if locked.status not in {MeetingStatus.REQUESTED, MeetingStatus.SCHEDULED}:
            raise WrongState(_("该会议已%s，不能取消。") % locked.get_status_display())
        if not MeetingPermissions(actor, locked).can_manage:
            raise NotAllowed(_("只有会议组织人、主持人或协调岗可以取消会议。"))
        was_scheduled = locked.status == MeetingStatus.SCHEDULED
        locked.status = MeetingStatus.CANCELLED
        locked.sequence += 1
        locked.decision_note = reason
        locked.save()
        _audit(locked, "meetings.cancel", actor, {"reason": reason})
        if was_scheduled:
            _send_notice(locked, KIND_CHANGED, _("会议取消：%s") % locked.subject, _("取消理由：%s") % reason)
    return locked


def respond(meeting: Meeting, user, *, response: str, reason: str = "", delegate=None, now=None) -> Participant:
    if response not in {Response.ATTEND, Response.LEAVE, Response.DELEGATE}:
        raise InvalidInput(_("请选择参加、请假或代参会。"))
    reason = _text(reason, limit=300)
    if response == Response.LEAVE and not reason:
        raise InvalidInput(_("请假请填写事由。"))
    if response == Response.DELEGATE:
        if delegate is None or not delegate.is_active:
            raise InvalidInput(_("代参会请指定一位有账号的同事。"))
        if delegate.pk == user.pk:
            raise InvalidInput(_("代参会人不能是您自己。"))
    with transaction.atomic():
        locked = _locked(meeting)
        if locked.status != MeetingStatus.SCHEDULED:
            raise WrongState(_("会议当前为“%s”，不能答复。") % locked.get_status_display())
        row = Participant.objects.select_for_update().filter(meeting=locked, user=user).first()
        if row is None:
            raise NotAllowed(_("您不在本次会议的参会名单中。"))
        row.response, row.response_reason = response, reason
        row.delegate = delegate if response == Response.DELEGATE else None
        row.responded_at = now or timezone.now()
        row.save()
        _audit(locked, "meetings.respond", user, {"response": response, "delegate": getattr(delegate, "pk", None)})
        if row.delegate is not None:
            _notify_on_commit([row.delegate], kind=KIND_NOTICE, event_key=f"meeting:{locked.pk}:delegate:{row.pk}",
                              title=_("请代为参会：%s") % locked.subject,
                              body=_("%(who)s 请您代为参加，时间：%(when)s。") % {
                                  "who": user.get_full_name(), "when": _fmt(locked.start)},
                              url=locked.get_absolute_url())
    return row


# -- sign-in --------------------------------------------------------------------------------------


class SignInRefused(MeetingError):
    pass


def _refuse_sign_in(meeting, user, reason: str):
    # Recorded outside the caller's failed transaction so the record survives.
    SignInRefusal.objects.create(meeting=meeting, user=user, reason=reason[:200])
    _audit(meeting, "meetings.sign_in_refused", user, {"reason": reason})
    raise SignInRefused(reason)


def sign_in(meeting: Meeting, user, *, token: str, now=None) -> Participant:
    """QR sign-in on the phone. Refusals (wrong code, not invited, outside the meeting) are
    recorded and raise ``SignInRefused``."""
    import secrets

    now = now or timezone.now()
    if not secrets.compare_digest(str(token or ""), meeting.checkin_token):
        _refuse_sign_in(meeting, user, str(_("签到码无效。")))
    if meeting.status not in {MeetingStatus.SCHEDULED, MeetingStatus.HELD}:
        _refuse_sign_in(meeting, user, str(_("会议%s，不能签到。") % meeting.get_status_display()))
    if now < meeting.start - SIGN_IN_OPENS:
        _refuse_sign_in(meeting, user, str(_("签到在会前 30 分钟开放。")))
    if now > meeting.end:
        _refuse_sign_in(meeting, user, str(_("会议已结束，签到码已失效。")))
    row = Participant.objects.filter(meeting=meeting, user=user).first()
    if row is None:
        row = Participant.objects.filter(meeting=meeting, delegate=user).first()
        if row is None:
            _refuse_sign_in(meeting, user, str(_("您不在本次会议的参会名单中。")))
        # The delegate attends in the invitee's place: their own row, marked as delegate.
        row, _created = Participant.objects.get_or_create(
            meeting=meeting, user=user, defaults={"department_id": row.department_id, "response": Response.ATTEND}
        )
    with transaction.atomic():
        locked = Participant.objects.select_for_update().get(pk=row.pk)
        if locked.signed_in_at is None:
            locked.signed_in_at, locked.signed_in_by, locked.sign_in_method = now, user, "qr"
            locked.save(update_fields=["signed_in_at", "signed_in_by", "sign_in_method"])
            _audit(meeting, "meetings.sign_in", user, {"method": "qr", "late": locked.signed_in_at > meeting.start})
    return locked


def mark_attendance(meeting: Meeting, actor, *, present_ids, now=None) -> int:
    """The secretary ticks who is present (those not ticked are left unsigned)."""
    now = now or timezone.now()
    if not MeetingPermissions(actor, meeting).can_manage:
        raise NotAllowed(_("只有会议组织人、主持人或协调岗可以登记签到。"))
    if meeting.status not in {MeetingStatus.SCHEDULED, MeetingStatus.HELD}:
        raise WrongState(_("会议%s，不能登记签到。") % meeting.get_status_display())
    if now < meeting.start - SIGN_IN_OPENS:
        raise InvalidInput(_("会议尚未开始，不能登记签到。"))
    ids = {int(i) for i in present_ids if str(i).isdigit()}
    with transaction.atomic():
        n = Participant.objects.filter(meeting=meeting, pk__in=ids, signed_in_at__isnull=True).update(
            signed_in_at=now, signed_in_by=actor, sign_in_method="manual"
        )
        _audit(meeting, "meetings.mark_attendance", actor, {"count": n})
    return n


# -- agenda ---------------------------------------------------------------------------------------


def agenda_cutoff(meeting: Meeting) -> dt.datetime:
    """Topics are submitted until one working day before the meeting (same time of day)."""
    cal = WorkCalendar()
    day = timezone.localtime(meeting.start).date() - dt.timedelta(days=1)
    while not cal.is_workday(day):
        day -= dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(day, timezone.localtime(meeting.start).time()))


def submit_agenda_item(meeting: Meeting, actor, *, title: str, note: str = "", matter=None, now=None) -> AgendaItem:
    now = now or timezone.now()
    title = _text(title, required=_("请填写议题。"), limit=200)
    perms = MeetingPermissions(actor, meeting)
    if not perms.can_view:
        raise NotAllowed(_("您无权为该会议提交议题。"))
    if meeting.status not in {MeetingStatus.REQUESTED, MeetingStatus.SCHEDULED}:
        raise WrongState(_("会议%s，不能再提交议题。") % meeting.get_status_display())
    if now > agenda_cutoff(meeting) and not perms.can_manage:
        raise InvalidInput(_("议题提交已于 %s 截止。") % _fmt(agenda_cutoff(meeting)))
    with transaction.atomic():
        item = AgendaItem.objects.create(
            meeting=meeting, title=title, note=_text(note), matter=matter, submitted_by=actor,
            department_id=actor.department_id, accepted=perms.can_manage,
            position=meeting.agenda.count() + 1,
        )
        _audit(meeting, "meetings.agenda_submit", actor, {"item": item.pk})
    return item


def arrange_agenda(meeting: Meeting, actor, *, accepted_ids, order: dict[int, int]) -> None:
    if not MeetingPermissions(actor, meeting).can_manage:
        raise NotAllowed(_("只有会议组织人、主持人或协调岗可以整理议程。"))
    with transaction.atomic():
        for item in meeting.agenda.select_for_update():
            item.accepted = item.pk in accepted_ids
            item.position = order.get(item.pk, item.position)
            item.save(update_fields=["accepted", "position"])
        _audit(meeting, "meetings.agenda_arrange", actor, {"accepted": sorted(accepted_ids)})


def carry_forward_decisions(meeting: Meeting) -> int:
    """督办: open decisions of earlier meetings of the same series become agenda items of this
    one, once (idempotent)."""
    earlier = Decision.objects.open().filter(meeting__type=meeting.type, meeting__start__lt=meeting.start).exclude(
        pk__in=meeting.agenda.filter(carried_decision__isnull=False).values("carried_decision_id")
    ).select_related("responsible_department")
    n = 0
    today = timezone.localdate()
    for d in earlier:
        flag = _("【逾期】") if d.due_date < today else ""
        AgendaItem.objects.create(
            meeting=meeting, title=(_("督办：") + flag + d.text)[:200], carried_decision=d, accepted=True,
            department=d.responsible_department, position=1000 + d.pk, matter=d.matter,
            note=_("责任部门：%(dept)s；期限：%(due)s") % {"dept": d.responsible_department.name, "due": d.due_date},
        )
        n += 1
    return n


# -- minutes --------------------------------------------------------------------------------------


def minutes_for(meeting: Meeting) -> Minutes:
    minutes, _created = Minutes.objects.get_or_create(meeting=meeting)
    return minutes


def _attendance_text(meeting: Meeting) -> tuple[str, str]:
    present, absent = [], []
    for p in meeting.participants.select_related("user", "delegate"):
        name = p.user.get_full_name()
        if p.signed_in_at:
            present.append(name + (_("（迟到）") if p.signed_in_at > meeting.start else ""))
        elif p.response == Response.LEAVE:
            absent.append(name + _("（请假：%s）") % p.response_reason)
        elif p.response == Response.DELEGATE and p.delegate_id:
            absent.append(name + _("（由%s代参会）") % p.delegate.get_full_name())
        else:
            absent.append(name + _("（缺席）"))
    return "、".join(present), "、".join(absent)


def save_minutes(meeting: Meeting, actor, *, revision: int, summary: str, discussion: str,
                 decisions: list[dict], now=None) -> Minutes:
    """Save the draft. ``revision`` is what the editor loaded: a save from a stale page (someone
    else saved in between) is refused instead of overwriting. Each decision needs text, a
    responsible department and a due date; the person, when given, must belong to that department."""
    now = now or timezone.now()
    if not MeetingPermissions(actor, meeting).can_manage:
        raise NotAllowed(_("只有会议组织人（秘书）、主持人或协调岗可以编写纪要。"))
    summary = _text(summary, limit=20000)
    discussion = _text(discussion, limit=20000)
    rows = []
    for i, row in enumerate(decisions, start=1):
        text = (row.get("text") or "").strip()
        if not text:
            continue
        dept = row.get("department")
        due = row.get("due_date")
        person = row.get("person")
        if dept is None:
            raise InvalidInput(_("第 %d 条决议没有责任部门。") % i)
        if due is None:
            raise InvalidInput(_("第 %d 条决议没有完成期限。") % i)
        if due < timezone.localdate(meeting.start):
            raise InvalidInput(_("第 %d 条决议的完成期限早于会议日期。") % i)
        if person is not None and person.department_id != dept.pk and person not in heads_and_liaisons(dept.pk):
            raise InvalidInput(_("第 %(i)d 条决议的责任人不属于%(dept)s。") % {"i": i, "dept": dept.name})
        rows.append((_text(text, limit=2000), dept, person, due))
    with transaction.atomic():
        locked = Minutes.objects.select_for_update().filter(meeting=meeting).first() or Minutes.objects.create(meeting=meeting)
        if locked.status == MinutesStatus.PUBLISHED:
            raise WrongState(_("纪要已发布，如需修改请发布更正版本。"))
        if locked.revision != revision:
            raise WrongState(_("纪要已被他人更新（%s），请刷新后再改。您填写的内容仍在下方。") % (
                locked.written_by.get_full_name() if locked.written_by_id else ""))
        locked.summary, locked.discussion = summary, discussion
        locked.attendees_text, locked.absentees_text = _attendance_text(meeting)
        locked.written_by = actor
        locked.revision += 1
        locked.save()
        meeting.decisions.filter(matter__isnull=True).delete()
        for pos, (text, dept, person, due) in enumerate(rows, start=1):
            Decision.objects.create(meeting=meeting, text=text, responsible_department=dept,
                                    responsible_person=person, due_date=due, position=pos)
        if meeting.status == MeetingStatus.SCHEDULED and meeting.end <= now:
            Meeting.objects.filter(pk=meeting.pk).update(status=MeetingStatus.HELD)
        _audit(locked, "meetings.minutes_save", actor, {"revision": locked.revision, "decisions": len(rows)})
    return locked


def submit_minutes(minutes: Minutes, actor) -> Minutes:
    """To sign-off by each participating department, then the chair's approval."""
    meeting = minutes.meeting
    if not MeetingPermissions(actor, meeting).can_manage:
        raise NotAllowed(_("只有会议组织人（秘书）、主持人或协调岗可以提交纪要。"))
    with transaction.atomic():
        locked = Minutes.objects.select_for_update().get(pk=minutes.pk)
        if locked.status != MinutesStatus.DRAFT:
            raise WrongState(_("纪要已提交。"))
        if not (locked.summary or locked.discussion):
            raise InvalidInput(_("纪要内容为空，请先填写。"))
        locked.status = MinutesStatus.SUBMITTED
        locked.save(update_fields=["status", "updated_at"])
        # The participating departments (named on the request, or standing for the type) sign;
        # the calling department wrote the minutes, and people invited one by one do not bind
        # their departments.
        dept_ids = set(meeting.departments.values_list("pk", flat=True))
        dept_ids |= set(meeting.type.standing_departments.values_list("pk", flat=True))
        dept_ids.discard(meeting.organiser_department_id)
        recipients = []
        for dept in Department.objects.filter(pk__in=dept_ids, head__isnull=False):
            MinutesSignoff.objects.get_or_create(minutes=locked, department=dept, version=locked.version)
            recipients += heads_and_liaisons(dept.pk)
        _audit(locked, "meetings.minutes_submit", actor, {"departments": sorted(dept_ids)})
        _notify_on_commit([*recipients, meeting.chair], kind=KIND_MINUTES,
                          event_key=f"minutes:{locked.pk}:submitted:{locked.version}",
                          title=_("纪要待会签/审批：%s") % meeting.subject, url=meeting.get_absolute_url())
    return locked


def sign_off_minutes(minutes: Minutes, actor, *, department, remark: str = "") -> MinutesSignoff:
    perms = MeetingPermissions(actor, minutes.meeting)
    with transaction.atomic():
        minutes = Minutes.objects.select_for_update().get(pk=minutes.pk)
        row = MinutesSignoff.objects.select_for_update().filter(
            minutes=minutes, department=department, version=minutes.version).first()
        if row is None:
            raise NotAllowed(_("该部门不需要会签本纪要。"))
        if not perms.can_sign_off(department.pk):
            raise NotAllowed(_("只有%s负责人或对接人可以会签。") % department.name)
        if minutes.status != MinutesStatus.SUBMITTED:
            raise WrongState(_("纪要当前不在会签阶段。"))
        if row.signed_at is None:
            row.signed_at, row.signed_by, row.remark = timezone.now(), actor, _text(remark, limit=300)
            row.save()
            _audit(minutes, "meetings.minutes_sign_off", actor, {"department": department.pk})
    return row


def publish_minutes(minutes: Minutes, actor, *, now=None) -> Minutes:
    """The chair approves and publishes: participants are asked to confirm 已阅 and every
    decision becomes a tracked matter of its responsible department."""
    from .tracking import open_decision_matter

    now = now or timezone.now()
    meeting = minutes.meeting
    if not MeetingPermissions(actor, meeting).can_chair:
        raise NotAllowed(_("只有主持人可以审批纪要。"))
    with transaction.atomic():
        locked = Minutes.objects.select_for_update().get(pk=minutes.pk)
        if locked.status != MinutesStatus.SUBMITTED:
            raise WrongState(_("纪要须先提交会签，才能审批发布。") if locked.status == MinutesStatus.DRAFT
                             else _("纪要已发布。"))
        missing = [s.department.name for s in locked.signoffs.filter(version=locked.version, signed_at__isnull=True)
                   .select_related("department")]
        if missing:
            raise WrongState(_("以下部门尚未会签：%s") % "、".join(missing))
        locked.status = MinutesStatus.PUBLISHED
        locked.approved_by, locked.approved_at, locked.published_at = actor, now, now
        locked.save()
        for decision in meeting.decisions.filter(matter__isnull=True).select_related(
                "responsible_department", "responsible_person", "meeting"):
            decision.matter = open_decision_matter(decision, submitter=meeting.organiser)
            decision.save(update_fields=["matter"])
        Meeting.objects.filter(pk=meeting.pk).update(status=MeetingStatus.HELD)
        _audit(locked, "meetings.minutes_publish", actor, {"version": locked.version})
        people = [p.user for p in meeting.participants.select_related("user")]
        _notify_on_commit(people, kind=KIND_MINUTES, event_key=f"minutes:{locked.pk}:published:{locked.version}",
                          title=_("会议纪要已发布，请确认已阅：%s") % meeting.subject, url=meeting.get_absolute_url())
    return locked


def correct_minutes(minutes: Minutes, actor, *, note: str, summary: str, discussion: str) -> Minutes:
    """A correction after publication is a new version; everyone confirms again."""
    note = _text(note, required=_("请填写更正说明。"))
    meeting = minutes.meeting
    if not MeetingPermissions(actor, meeting).can_manage:
        raise NotAllowed(_("只有会议组织人（秘书）、主持人或协调岗可以更正纪要。"))
    with transaction.atomic():
        locked = Minutes.objects.select_for_update().get(pk=minutes.pk)
        if locked.status != MinutesStatus.PUBLISHED:
            raise WrongState(_("纪要尚未发布，直接修改即可。"))
        locked.version += 1
        locked.revision += 1
        locked.summary, locked.discussion = _text(summary, limit=20000), _text(discussion, limit=20000)
        locked.correction_note = note
        locked.save()
        _audit(locked, "meetings.minutes_correct", actor, {"version": locked.version, "note": note})
        people = [p.user for p in meeting.participants.select_related("user")]
        _notify_on_commit(people, kind=KIND_MINUTES, event_key=f"minutes:{locked.pk}:published:{locked.version}",
                          title=_("会议纪要已更正（第 %(v)d 版），请重新确认：%(s)s") % {"v": locked.version, "s": meeting.subject},
                          body=note, url=meeting.get_absolute_url())
    return locked


def confirm_read(minutes: Minutes, user) -> MinutesReceipt:
    if minutes.status != MinutesStatus.PUBLISHED:
        raise WrongState(_("纪要尚未发布。"))
    if not minutes.meeting.participants.filter(user=user).exists():
        raise NotAllowed(_("您不在本次会议的参会名单中。"))
    with transaction.atomic():
        receipt, created = MinutesReceipt.objects.get_or_create(minutes=minutes, user=user, version=minutes.version)
        if created:
            _audit(minutes, "meetings.minutes_read", user, {"version": minutes.version})
    return receipt


# -- decisions ------------------------------------------------------------------------------------


def can_close_decision(decision: Decision, user) -> bool:
    if is_coordinator(user) or user.pk == decision.responsible_person_id:
        return True
    return user in heads_and_liaisons(decision.responsible_department_id)


def close_decision(decision: Decision, actor, *, result: str, overdue_reason: str = "") -> Decision:
    result = _text(result, required=_("请填写决议的完成情况，才能关闭。"))
    with transaction.atomic():
        locked = Decision.objects.select_for_update().get(pk=decision.pk)
        if not can_close_decision(locked, actor):
            raise NotAllowed(_("只有责任人、责任部门负责人/对接人或协调岗可以关闭决议。"))
        if locked.state == DecisionState.DONE:
            raise WrongState(_("该决议已完成。"))
        today = timezone.localdate()
        overdue_reason = _text(overdue_reason, limit=1000)
        if locked.due_date < today and not (overdue_reason or locked.overdue_reason):
            raise InvalidInput(_("该决议已逾期，请填写逾期原因。"))
        locked.state, locked.result, locked.closed_at, locked.closed_by = DecisionState.DONE, result, timezone.now(), actor
        if overdue_reason:
            locked.overdue_reason = overdue_reason
        locked.save()
        _audit(locked, "meetings.decision_close", actor, {"late": locked.due_date < today})
    return locked


def escalate_overdue_decisions(today: dt.date | None = None) -> int:
    """Overdue open decisions go once to the responsible department's 分管领导 (and the
    coordinator). Idempotent."""
    today = today or timezone.localdate()
    coordinators = list(users_with_role(Role.COORDINATOR))
    n = 0
    rows = Decision.objects.open().filter(due_date__lt=today, escalated_at__isnull=True).select_related(
        "responsible_department__supervising_leader", "meeting")
    for d in rows:
        with transaction.atomic():
            if not Decision.objects.filter(pk=d.pk, escalated_at__isnull=True).update(escalated_at=timezone.now()):
                continue
            leader = d.responsible_department.supervising_leader
            _audit(d, "meetings.decision_escalate", None, {"leader": getattr(leader, "pk", None)})
            _notify_on_commit(
                [leader, *coordinators], kind=KIND_DECISION_OVERDUE, event_key=f"decision:{d.pk}:overdue",
                title=_("会议决议逾期：%(dept)s %(text)s") % {"dept": d.responsible_department.name, "text": d.text[:40]},
                body=_("%(meeting)s 决议，期限 %(due)s，至今未完成。") % {"meeting": d.meeting.subject, "due": d.due_date},
                url=d.matter.get_absolute_url() if d.matter_id else d.meeting.get_absolute_url(),
            )
            n += 1
    return n


def remind_minutes(now=None) -> int:
    """Minutes reminders: to the organiser 4 hours before the deadline, and overdue to the chair."""
    now = now or timezone.now()
    n = 0
    pending = Meeting.objects.filter(
        status__in=[MeetingStatus.SCHEDULED, MeetingStatus.HELD], end__lt=now, minutes_due_at__isnull=False
    ).exclude(minutes__status=MinutesStatus.PUBLISHED).select_related("chair", "organiser")
    for m in pending:
        minutes = minutes_for(m)
        if m.minutes_due_at < now and minutes.overdue_reported_at is None:
            Minutes.objects.filter(pk=minutes.pk).update(overdue_reported_at=now)
            with transaction.atomic():
                _notify_on_commit([m.chair, m.organiser], kind=KIND_MINUTES_OVERDUE, event_key=f"minutes:{minutes.pk}:overdue",
                                  title=_("会议纪要逾期未发布：%s") % m.subject,
                                  body=_("纪要时限 %s。") % _fmt(m.minutes_due_at), url=m.get_absolute_url())
            n += 1
        elif m.minutes_due_at - dt.timedelta(hours=4) < now <= m.minutes_due_at and minutes.reminded_at is None:
            Minutes.objects.filter(pk=minutes.pk).update(reminded_at=now)
            with transaction.atomic():
                _notify_on_commit([m.organiser], kind=KIND_MINUTES, event_key=f"minutes:{minutes.pk}:remind",
                                  title=_("请尽快发布会议纪要：%s") % m.subject,
                                  body=_("纪要时限 %s。") % _fmt(m.minutes_due_at), url=m.get_absolute_url())
            n += 1
    return n


def ensure_standing_meetings(now=None, *, weeks: int = 2) -> int:
    """Standing meetings (周例会) of the next ``weeks`` weeks exist, scheduled, with the earlier
    meetings' open decisions carried onto their agenda. Idempotent."""
    now = now or timezone.now()
    created = 0
    for mtype in MeetingType.objects.filter(is_active=True, recur_weekday__isnull=False, recur_time__isnull=False):
        organiser = mtype.default_chair or users_with_role(Role.COORDINATOR).order_by("pk").first()
        if organiser is None:
            continue
        after = now
        for _i in range(weeks):
            start = next_occurrence(mtype, after)
            if start is None:
                break
            after = start
            day = timezone.localtime(start).date()
            if Meeting.objects.filter(type=mtype, start__date=day).exclude(status=MeetingStatus.CANCELLED).exists():
                continue
            room = mtype.recur_room
            end = start + dt.timedelta(minutes=mtype.recur_minutes)
            if room is not None and Meeting.objects.overlapping(room, start, end).exists():
                room = None
            meeting = request_meeting(
                mtype=mtype, subject=f"{mtype.name}（{day:%m-%d}）", organiser=organiser, start=start, end=end,
                room=room, place="" if room else str(_("待定")), chair=mtype.default_chair,
                source="standing", schedule_now=True, now=now,
            )
            carry_forward_decisions(meeting)
            created += 1
    return created
