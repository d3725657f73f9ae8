"""Writes of the emergencies app: report, page, acknowledge, updates, status, review.

Each action runs in one transaction; notifications are written to the portal's outbox
(``notify``) inside it, so a report that commits has its pages recorded even when the worker
is down, and a rollback pages nobody.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from wagtail import hooks
from wagtail.log_actions import log

from matters.references import next_reference
from matters.uploads import check_upload
from portal.models import Department, Role, User
from portal.models.people import users_with_role
from portal.notifications.services import notify
from portal.workdays import add_working_days

from .models import (
    OPEN_STATUSES,
    ClockPolicy,
    DutyShift,
    Emergency,
    EntryKind,
    Grade,
    Milestone,
    MilestoneKind,
    PagedPerson,
    Photo,
    Rectification,
    Review,
    Status,
    TimelineEntry,
)

NUMBER_PATTERN = "{prefix}-{year}-{seq:4}"
NUMBER_PREFIX = "JJ"
PHOTO_TYPES = {"jpg", "png", "gif", "webp", "heic", "heif"}
PHOTO_MAX_BYTES = 10 * 1024 * 1024
MAX_PHOTOS = 6
# The on-duty people are phoned (voice) this long before 响应 would be missed.
VOICE_LEAD = dt.timedelta(minutes=5)

KIND_PAGE = "emergency.page"
KIND_ESCALATED = "emergency.escalated"
KIND_UPDATE = "emergency.update"
KIND_REVIEW = "emergency.review"


class EmergencyError(Exception):
    """A refused action, with a Chinese message for the person."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class InvalidInput(EmergencyError):
    pass


class NotAllowed(EmergencyError, PermissionDenied):
    pass


# -- reading helpers --------------------------------------------------------------------------------


def policy_for(event_type, grade: str) -> dict[str, int]:
    """The clock minutes for a type and grade: the type's own row, the grade's default row, or
    the seeds' 30 min / 1 h / 2 h / 4 h / 2 h."""
    rows = {
        (p.event_type_id, p.grade): p
        for p in ClockPolicy.objects.filter(Q(event_type=event_type) | Q(event_type__isnull=True), grade=grade)
    }
    row = rows.get((event_type.pk, grade)) or rows.get((None, grade))
    if row is None:
        return {"respond": 30, "written": 60, "plan": 120, "progress": 240, "gm": 120}
    return {
        "respond": row.respond_minutes,
        "written": row.written_minutes,
        "plan": row.plan_minutes,
        "progress": row.progress_minutes,
        "gm": row.gm_minutes,
    }


def on_duty(department_ids: Iterable[int | None], moment: dt.datetime) -> dict[int | None, list[DutyShift]]:
    """Shifts running at ``moment`` per department id (None = company level)."""
    ids = list(department_ids)
    result: dict[int | None, list[DutyShift]] = {pk: [] for pk in ids}
    qs = DutyShift.objects.on_duty(moment).select_related("person", "department")
    real = [pk for pk in ids if pk is not None]
    cond = Q(department_id__in=real)
    if None in ids:
        cond |= Q(department__isnull=True)
    for shift in qs.filter(cond):
        result.setdefault(shift.department_id, []).append(shift)
    return result


def is_leader(user) -> bool:
    return bool(
        user.is_superuser
        or user.roles.filter(code__in=[Role.GENERAL_MANAGER, Role.COORDINATOR]).exists()
    )


def _audit(emergency: Emergency, action: str, actor, data: dict | None = None) -> None:
    log(instance=emergency, action=action, user=actor, title=str(emergency)[:255], data=data or {})


def _entry(emergency, kind, actor=None, text="", data=None, when=None) -> TimelineEntry:
    return TimelineEntry.objects.create(
        emergency=emergency, kind=kind, actor=actor, text=text, data=data or {}, created_at=when or timezone.now()
    )


def _refresh_next_due(emergency: Emergency) -> None:
    pending = emergency.milestones.filter(met_at__isnull=True, missed_at__isnull=True, cancelled=False)
    times = [due for due in [pending.order_by("due_at").values_list("due_at", flat=True).first()] if due]
    warn = pending.filter(kind=MilestoneKind.RESPOND, warned_at__isnull=True).values_list("due_at", flat=True).first()
    if warn is not None:
        times.append(warn - VOICE_LEAD)
    nxt = min(times) if times else None
    if emergency.status not in OPEN_STATUSES:
        nxt = None
    Emergency.objects.filter(pk=emergency.pk).update(next_due_at=nxt)
    emergency.next_due_at = nxt


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%m-%d %H:%M")


# -- photos -----------------------------------------------------------------------------------------


def check_photo(upload) -> str:
    """The content type of an acceptable photo, or ValidationError in Chinese."""
    checked = check_upload(upload, allowed=PHOTO_TYPES, max_bytes=PHOTO_MAX_BYTES)
    return checked.content_type


def check_photos(uploads) -> list[str]:
    uploads = list(uploads or [])
    if len(uploads) > MAX_PHOTOS:
        raise ValidationError(_("最多上传 %d 张照片。") % MAX_PHOTOS)
    return [check_photo(u) for u in uploads]


def _store_photos(emergency, entry, uploads, actor, stored: list | None = None) -> list[Photo]:
    """Save the photos; ``stored`` collects the files so a caller can remove them on rollback."""
    photos = []
    for upload, content_type in zip(uploads, check_photos(uploads), strict=True):
        photo = Photo(
            emergency=emergency, entry=entry, original_name=upload.name[:255], content_type=content_type,
            size=upload.size, uploaded_by=actor,
        )
        photo.file.save(upload.name, upload, save=False)
        if stored is not None:
            stored.append((photo.file.storage, photo.file.name))
        photo.save()
        photos.append(photo)
    return photos


# -- report and paging ------------------------------------------------------------------------------


class _FilesRemovedOnError:
    """Files written inside a transaction that then fails are deleted again."""

    def __init__(self):
        self.files: list = []

    def __enter__(self):
        return self.files

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            for storage, name in self.files:
                storage.delete(name)
        return False


def report_emergency(
    reporter,
    *,
    idempotency_key: str,
    event_type,
    site: Department,
    location: str,
    description: str = "",
    grade: str = Grade.GENERAL,
    photos: Iterable = (),
    when: dt.datetime | None = None,
) -> tuple[Emergency, bool]:
    """Record a report and page the people on duty. A second call with the same key (a double
    tap, a retried POST) returns the first event: ``(emergency, created)``."""
    if not getattr(reporter, "is_authenticated", False) or not reporter.is_active:
        raise NotAllowed(_("请先登录。"))
    key = (idempotency_key or "").strip()[:64]
    if not key:
        raise InvalidInput(_("提交标识缺失，请刷新页面后重新提交。"))
    existing = Emergency.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return _same_reporter(existing, reporter), False
    location = (location or "").strip()
    if event_type is None or not event_type.is_active:
        raise InvalidInput(_("请选择事件类型。"))
    if site is None:
        raise InvalidInput(_("请选择项目/管理处。"))
    if not location:
        raise InvalidInput(_("请填写具体位置，例如“3 号楼 2 号电梯”。"))
    if grade not in Grade.values:
        raise InvalidInput(_("事件等级不正确。"))
    photos = list(photos or [])
    try:
        check_photos(photos)
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages)) from exc
    when = when or timezone.now()
    with _FilesRemovedOnError() as stored, transaction.atomic():
        try:
            with transaction.atomic():
                number = next_reference(NUMBER_PATTERN, prefix=NUMBER_PREFIX, when=when)
                emergency = Emergency.objects.create(
                    number=number, idempotency_key=key, event_type=event_type, grade=grade, site=site,
                    location=location[:200], description=(description or "").strip(), reporter=reporter,
                    reported_at=when,
                )
        except IntegrityError:
            # The same key committed by a concurrent request: that one is the event (the number
            # we drew was given back with the savepoint, so no gap).
            existing = Emergency.objects.filter(idempotency_key=key).first()
            if existing is None:
                raise
            return _same_reporter(existing, reporter), False
        dept_ids = list(event_type.departments.values_list("pk", flat=True))
        emergency.departments.set({*dept_ids, site.pk})
        entry = _entry(emergency, EntryKind.REPORTED, reporter, emergency.description,
                       {"location": emergency.location, "grade": grade}, when)
        _store_photos(emergency, entry, photos, reporter, stored)
        _create_milestones(emergency, when)
        _audit(emergency, "emergencies.report", reporter, {"number": emergency.number})
        page_on_duty(emergency, when=when)
    return emergency, True


def _same_reporter(emergency: Emergency, reporter) -> Emergency:
    if emergency.reporter_id != reporter.pk:
        raise InvalidInput(_("提交标识已被使用，请刷新页面后重新提交。"))
    return emergency


def _create_milestones(emergency: Emergency, when: dt.datetime) -> None:
    minutes = policy_for(emergency.event_type, emergency.grade)
    start = emergency.reported_at
    Milestone.objects.bulk_create([
        Milestone(emergency=emergency, kind=MilestoneKind.RESPOND, due_at=start + dt.timedelta(minutes=minutes["respond"])),
        Milestone(emergency=emergency, kind=MilestoneKind.WRITTEN, due_at=start + dt.timedelta(minutes=minutes["written"])),
        Milestone(emergency=emergency, kind=MilestoneKind.PLAN, due_at=start + dt.timedelta(minutes=minutes["plan"])),
        Milestone(emergency=emergency, kind=MilestoneKind.PROGRESS, seq=1,
                  due_at=start + dt.timedelta(minutes=minutes["progress"])),
        # The general manager's threshold counts from the report, not from a missed deadline.
        Milestone(emergency=emergency, kind=MilestoneKind.GM, due_at=start + dt.timedelta(minutes=minutes["gm"])),
    ])
    _refresh_next_due(emergency)


def _page(emergency, users_with_reason, *, when, title, body, event_suffix, kind=KIND_PAGE) -> list[User]:
    """Record who was paged (first reason wins) and notify them through every channel."""
    users = []
    seen = set()
    for user, reason, dept_id in users_with_reason:
        if user is None or not user.is_active or user.pk in seen:
            continue
        seen.add(user.pk)
        users.append(user)
        PagedPerson.objects.get_or_create(
            emergency=emergency, user=user, defaults={"reason": reason, "department_id": dept_id, "created_at": when}
        )
    if users:
        notify(users, kind=kind, event_key=f"emergency:{emergency.pk}:{event_suffix}", title=title, body=body,
               url=emergency.get_absolute_url(), departments=list(emergency.departments.all()),
               data={"emergency": emergency.pk, "number": emergency.number})
        from .phone import queue_messages

        queue_messages(emergency, users, channel="sms", event=event_suffix, params=sms_params(emergency), when=when)
    return users


def sms_params(emergency: Emergency) -> list[str]:
    """Template parameters {1} {2} {3}: number, type, site and location."""
    return [emergency.number, emergency.event_type.name, f"{emergency.site.short_name or emergency.site.name}"
            f"{emergency.location}"]


def page_on_duty(emergency: Emergency, *, when: dt.datetime | None = None) -> list[User]:
    """Page the on-duty people of the event type's departments, the site and the company roster,
    and the departments' 分管领导. A department with nobody on duty pages its head and the
    coordinators, and the gap is put on the timeline."""
    when = when or timezone.now()
    type_dept_ids = list(emergency.event_type.departments.values_list("pk", flat=True))
    dept_ids = list(dict.fromkeys([*type_dept_ids, emergency.site_id]))
    shifts = on_duty([*dept_ids, None], when)
    depts = {d.pk: d for d in Department.objects.filter(pk__in=dept_ids).select_related("head", "supervising_leader")}
    targets: list[tuple] = []
    gaps = []
    coordinators = list(users_with_role(Role.COORDINATOR))
    for pk in dept_ids:
        dept = depts.get(pk)
        running = shifts.get(pk) or []
        if running:
            targets += [(s.person, "duty", pk) for s in running]
        elif dept is not None:
            gaps.append(dept.name)
            targets.append((dept.head, "head", pk))
            targets += [(c, "coordinator", pk) for c in coordinators]
    targets += [(s.person, "duty", None) for s in shifts.get(None) or []]
    for pk in dept_ids:
        dept = depts.get(pk)
        if dept is not None and dept.supervising_leader_id:
            targets.append((dept.supervising_leader, "leader", pk))
    title = _("【紧急】%(type)s：%(site)s %(loc)s") % {
        "type": emergency.event_type.name, "site": emergency.site.name, "loc": emergency.location}
    body = _("%(number)s，%(when)s 上报。请立即响应（点开后按“我来响应”）。%(desc)s") % {
        "number": emergency.number, "when": _local(emergency.reported_at), "desc": emergency.description[:200]}
    users = _page(emergency, targets, when=when, title=title, body=body, event_suffix="page")
    if gaps:
        _entry(emergency, EntryKind.GAP, None, _("无人当班：%s。已改为通知部门负责人和协调岗。") % "、".join(gaps),
               {"departments": gaps}, when)
    _entry(emergency, EntryKind.PAGED, None, _("已呼叫：%s") % "、".join(u.get_full_name() for u in users),
           {"users": [u.pk for u in users]}, when)
    return users


# -- permissions ------------------------------------------------------------------------------------


class EmergencyPermissions:
    """What one person may do with one event, computed once per request."""

    def __init__(self, user, emergency: Emergency):
        self.user = user
        self.emergency = emergency
        if not user.is_authenticated:
            self.paged = self.leader = self.involved = self.head = False
            self.view = False
            return
        self.paged = emergency.paged.filter(user=user).exists()
        self.leader = is_leader(user)
        dept_ids = set(emergency.departments.values_list("pk", flat=True)) | {emergency.site_id}
        self.head = Department.objects.filter(pk__in=dept_ids).led_by(user).exists()
        self.involved = user.department_id in dept_ids
        self.view = (
            self.leader or self.paged or self.head or self.involved or emergency.reporter_id == user.pk
        )

    @property
    def can_view(self) -> bool:
        return self.view

    @property
    def can_acknowledge(self) -> bool:
        return self.emergency.status == Status.REPORTED and (self.paged or self.leader or self.head)

    @property
    def can_update(self) -> bool:
        return self.emergency.is_open and (self.paged or self.leader or self.head or self.involved)

    @property
    def can_manage(self) -> bool:
        """Change status and form the response group: paged people, heads and leaders."""
        return self.paged or self.leader or self.head

    @property
    def can_review(self) -> bool:
        return self.leader or self.head


def _lock(emergency: Emergency) -> Emergency:
    return Emergency.objects.select_for_update().get(pk=emergency.pk)


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise NotAllowed(message)


def _meet(emergency, kind, actor, when, seq=None) -> Milestone | None:
    qs = emergency.milestones.filter(kind=kind, met_at__isnull=True, cancelled=False)
    if seq is not None:
        qs = qs.filter(seq=seq)
    milestone = qs.order_by("seq").first()
    if milestone is None:
        return None
    milestone.met_at = when
    milestone.met_by = actor
    milestone.save(update_fields=["met_at", "met_by"])
    return milestone


# -- actions ----------------------------------------------------------------------------------------


def acknowledge(emergency: Emergency, user, *, when=None) -> Emergency:
    """响应: a named person takes the event. Only once; only by someone paged or responsible."""
    when = when or timezone.now()
    with transaction.atomic():
        locked = _lock(emergency)
        if locked.acknowledged_at is not None:
            raise InvalidInput(_("该事件已由%(who)s于 %(when)s 响应，无需重复响应。") % {
                "who": locked.acknowledged_by.get_full_name() if locked.acknowledged_by else "", "when": _local(locked.acknowledged_at)})
        perms = EmergencyPermissions(user, locked)
        _require(perms.paged or perms.leader or perms.head, _("只有被呼叫的值班人员或负责人可以响应该事件。"))
        locked.status = Status.ACKNOWLEDGED
        locked.acknowledged_at = when
        locked.acknowledged_by = user
        locked.save(update_fields=["status", "acknowledged_at", "acknowledged_by"])
        _meet(locked, MilestoneKind.RESPOND, user, when)
        _entry(locked, EntryKind.ACKNOWLEDGED, user, _("%s 已响应，正在处置。") % user.get_full_name(), when=when)
        _refresh_next_due(locked)
        _audit(locked, "emergencies.acknowledge", user)
        others = [p.user for p in locked.paged.select_related("user").exclude(user=user)] + [locked.reporter]
        notify(others, kind=KIND_UPDATE, event_key=f"emergency:{locked.pk}:ack",
               title=_("%(number)s 已由%(who)s响应") % {"number": locked.number, "who": user.get_full_name()},
               url=locked.get_absolute_url(), channels=["inbox"])
    return locked


UPDATE_KINDS = {
    "progress": (EntryKind.PROGRESS, MilestoneKind.PROGRESS),
    "written": (EntryKind.WRITTEN, MilestoneKind.WRITTEN),
    "plan": (EntryKind.PLAN, MilestoneKind.PLAN),
    "note": (EntryKind.NOTE, None),
}


def add_update(emergency: Emergency, user, *, kind: str, text: str, photos: Iterable = (), when=None) -> TimelineEntry:
    """A 进展 / 书面报告 / 处置方案 / 补充 with photos; meets its milestone. Every 进展 goes to
    the 分管领导 and the response group."""
    when = when or timezone.now()
    text = (text or "").strip()
    if kind not in UPDATE_KINDS:
        raise InvalidInput(_("请选择动态类型。"))
    photos = list(photos or [])
    if not text and not photos:
        raise InvalidInput(_("请填写内容或上传照片。"))
    try:
        check_photos(photos)
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages)) from exc
    entry_kind, milestone_kind = UPDATE_KINDS[kind]
    with _FilesRemovedOnError() as stored, transaction.atomic():
        locked = _lock(emergency)
        perms = EmergencyPermissions(user, locked)
        _require(perms.can_view, _("您无权查看该事件。"))
        if not locked.is_open:
            raise InvalidInput(_("事件已恢复，不能再添加动态。"))
        _require(perms.can_update, _("您无权更新该事件。"))
        entry = _entry(locked, entry_kind, user, text, when=when)
        _store_photos(locked, entry, photos, user, stored)
        if locked.status in (Status.REPORTED, Status.ACKNOWLEDGED) and kind != "note":
            locked.status = Status.HANDLING
            locked.save(update_fields=["status"])
        if milestone_kind is not None:
            met = _meet(locked, milestone_kind, user, when)
            if met is not None and milestone_kind == MilestoneKind.PROGRESS and locked.status != Status.CONTROLLED:
                _next_progress(locked, when)
        _refresh_next_due(locked)
        _audit(locked, "emergencies.update", user, {"kind": kind})
        if kind == "progress":
            leaders = [d.supervising_leader for d in locked.departments.select_related("supervising_leader")]
            group = [p.user for p in locked.paged.select_related("user").filter(reason="group")]
            notify([*leaders, *group], kind=KIND_UPDATE, event_key=f"emergency:{locked.pk}:entry:{entry.pk}",
                   title=_("%(number)s 进展：%(text)s") % {"number": locked.number, "text": text[:60]},
                   body=text, url=locked.get_absolute_url())
    return entry


def _next_progress(emergency: Emergency, base: dt.datetime) -> Milestone:
    minutes = policy_for(emergency.event_type, emergency.grade)["progress"]
    last = emergency.milestones.filter(kind=MilestoneKind.PROGRESS).order_by("-seq").first()
    seq = (last.seq if last else 0) + 1
    milestone, _created = Milestone.objects.get_or_create(
        emergency=emergency, kind=MilestoneKind.PROGRESS, seq=seq,
        defaults={"due_at": base + dt.timedelta(minutes=minutes)},
    )
    return milestone


TRANSITIONS = {
    Status.CONTROLLED: {Status.ACKNOWLEDGED, Status.HANDLING},
    Status.RECOVERED: {Status.ACKNOWLEDGED, Status.HANDLING, Status.CONTROLLED},
}


def change_status(emergency: Emergency, user, status: str, *, text: str = "", when=None) -> Emergency:
    """已控制 (stops the progress clock and the general-manager threshold) or 已恢复 (the review
    falls due within 3 working days)."""
    when = when or timezone.now()
    if status not in TRANSITIONS:
        raise InvalidInput(_("不能设置为该状态。"))
    with transaction.atomic():
        locked = _lock(emergency)
        perms = EmergencyPermissions(user, locked)
        _require(perms.can_manage, _("只有被呼叫的人员、部门负责人或领导可以变更事件状态。"))
        if locked.status not in TRANSITIONS[status]:
            if locked.status == Status.REPORTED:
                raise InvalidInput(_("请先响应该事件。"))
            raise InvalidInput(_("事件当前状态为“%s”，不能执行该操作。") % locked.get_status_display())
        old = locked.status
        locked.status = status
        fields = ["status"]
        if locked.controlled_at is None:
            locked.controlled_at = when
            fields.append("controlled_at")
            _meet(locked, MilestoneKind.GM, user, when)
            locked.milestones.filter(kind=MilestoneKind.PROGRESS, met_at__isnull=True, missed_at__isnull=True).update(
                cancelled=True)
        if status == Status.RECOVERED:
            locked.recovered_at = when
            fields.append("recovered_at")
            locked.milestones.filter(met_at__isnull=True, missed_at__isnull=True).update(cancelled=True)
        locked.save(update_fields=fields)
        _entry(locked, EntryKind.STATUS, user, text.strip() or Status(status).label, {"from": old, "to": status}, when)
        _refresh_next_due(locked)
        _audit(locked, "emergencies.status", user, {"from": old, "to": status})
        if status == Status.RECOVERED:
            schedule_review(locked, user, when=when)
    return locked


def form_group(emergency: Emergency, actor, *, users: Iterable, when=None) -> list[User]:
    """应急小组: page the chosen people; they see the event in their list and may post updates."""
    when = when or timezone.now()
    users = [u for u in users if u is not None]
    if not users:
        raise InvalidInput(_("请选择应急小组成员。"))
    with transaction.atomic():
        locked = _lock(emergency)
        perms = EmergencyPermissions(actor, locked)
        _require(perms.can_manage, _("只有分管领导、部门负责人或首位响应人可以组建应急小组。"))
        if not locked.is_open:
            raise InvalidInput(_("事件已恢复，不能再组建应急小组。"))
        already = set(locked.paged.values_list("user_id", flat=True))
        new = [u for u in users if u.pk not in already]
        for u in new:
            PagedPerson.objects.create(emergency=locked, user=u, reason="group", department_id=u.department_id,
                                       created_at=when)
        locked.departments.add(*{u.department_id for u in users if u.department_id})
        if new:
            notify(new, kind=KIND_PAGE, event_key=f"emergency:{locked.pk}:group:{when.isoformat()}",
                   title=_("【紧急】您已加入 %(number)s 应急小组") % {"number": locked.number},
                   body=str(locked), url=locked.get_absolute_url())
        names = "、".join(u.get_full_name() for u in users)
        _entry(locked, EntryKind.GROUP, actor, _("应急小组成员：%s") % names, {"users": [u.pk for u in users]}, when)
        _audit(locked, "emergencies.group", actor, {"users": [u.pk for u in users]})
    return new


# -- review -----------------------------------------------------------------------------------------


def schedule_review(emergency: Emergency, organiser, *, when=None) -> Review:
    """The review falls due within 3 working days: a meeting through ``portal_schedule_meeting``
    (the first hook that answers), otherwise a tracked matter."""
    when = when or timezone.now()
    due = add_working_days(when, 3).at
    review, created = Review.objects.get_or_create(emergency=emergency, defaults={"due_at": due})
    if not created:
        return review
    departments = list(emergency.departments.all())
    subject = _("%(number)s %(type)s 复盘会") % {"number": emergency.number, "type": emergency.event_type.name}
    reason = _("突发事件“%(e)s”已恢复，须在 %(due)s 前完成复盘。") % {"e": str(emergency), "due": _local(due)}
    meeting = None
    for fn in hooks.get_hooks("portal_schedule_meeting"):
        meeting = fn(type_code="emergency_review", subject=subject, reason=reason, organiser=organiser,
                     departments=departments, related_matters=(), due_by=due)
        if meeting is not None:
            break
    if meeting is not None:
        review.meeting_label = str(meeting)[:200]
        url = getattr(meeting, "get_absolute_url", None)
        review.meeting_url = (url() if callable(url) else getattr(meeting, "url", "") or "")[:500]
    else:
        from matters.services import open_matter

        matter = open_matter(title=subject, submitter=organiser, urgency="high", text=reason,
                             data={"emergency": emergency.number, "due": due.isoformat()},
                             source="emergencies.review", when=when)
        review.matter = matter
        review.meeting_label = _("复盘跟踪事项 %s") % matter.reference
        review.meeting_url = matter.get_absolute_url()
    review.save()
    _entry(emergency, EntryKind.REVIEW, organiser, _("复盘须在 %(due)s 前完成：%(m)s") % {
        "due": _local(due), "m": review.meeting_label}, when=when)
    leaders = [d.supervising_leader for d in departments] + [d.head for d in departments]
    notify(leaders, kind=KIND_REVIEW, event_key=f"emergency:{emergency.pk}:review",
           title=_("%(number)s 待复盘（%(due)s 前）") % {"number": emergency.number, "due": _local(due)},
           body=reason, url=emergency.get_absolute_url())
    return review


def parse_measures(text: str) -> list[tuple[str, User, dt.date]]:
    """One measure a line: ``措施 | 责任人（用户名/工号/姓名）| 期限 YYYY-MM-DD``."""
    measures, errors = [], []
    for n, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        parts = [p.strip() for p in line.replace("｜", "|").split("|")]
        if len(parts) != 3 or not all(parts):
            errors.append(_("第 %d 行：请按“措施 | 责任人 | 期限”填写。") % n)
            continue
        measure, who, due = parts
        owner = find_person(who)
        if owner is None:
            errors.append(_("第 %(n)d 行：找不到责任人“%(who)s”。") % {"n": n, "who": who})
            continue
        try:
            due_date = dt.date.fromisoformat(due)
        except ValueError:
            errors.append(_("第 %(n)d 行：期限“%(due)s”不是日期（例如 2026-12-31）。") % {"n": n, "due": due})
            continue
        measures.append((measure[:200], owner, due_date))
    if errors:
        raise InvalidInput(" ".join(errors))
    return measures


def find_person(text: str) -> User | None:
    text = (text or "").strip()
    if not text:
        return None
    active = User.objects.filter(is_active=True)
    return (
        active.filter(username=text).first()
        or active.filter(employee_no=text).first()
        or (active.filter(name=text).first() if active.filter(name=text).count() == 1 else None)
    )


def submit_review(emergency: Emergency, user, *, cause: str, lessons: str, measures_text: str, when=None) -> Review:
    """复盘报告: cause, a summary generated from the timeline, measures; each measure a matter."""
    when = when or timezone.now()
    cause = (cause or "").strip()
    if not cause:
        raise InvalidInput(_("请填写原因分析。"))
    measures = parse_measures(measures_text)
    if not measures:
        raise InvalidInput(_("请至少填写一项整改措施。"))
    from matters.services import open_matter

    with transaction.atomic():
        locked = _lock(emergency)
        perms = EmergencyPermissions(user, locked)
        _require(perms.can_review, _("只有相关部门负责人或领导可以提交复盘报告。"))
        if locked.status == Status.REVIEWED:
            raise InvalidInput(_("该事件已完成复盘。"))
        if locked.status != Status.RECOVERED:
            raise InvalidInput(_("事件恢复后才能复盘。"))
        review = Review.objects.select_for_update().get(emergency=locked)
        review.cause = cause
        review.lessons = (lessons or "").strip()
        review.summary = timeline_summary(locked)
        review.submitted_at = when
        review.submitted_by = user
        review.save()
        for measure, owner, due_date in measures:
            matter = open_matter(
                title=_("整改：%(m)s（%(n)s）") % {"m": measure, "n": locked.number}, submitter=user,
                submitter_department=owner.department, urgency="medium",
                text=_("责任人：%(o)s；完成期限：%(d)s。") % {"o": owner.get_full_name(), "d": due_date.isoformat()},
                data={"emergency": locked.number, "owner": owner.pk, "due": due_date.isoformat()},
                source="emergencies.rectification", when=when,
            )
            Rectification.objects.create(review=review, measure=measure, owner=owner, due_date=due_date, matter=matter)
            notify([owner], kind=KIND_REVIEW, event_key=f"emergency:{locked.pk}:rect:{matter.pk}",
                   title=_("整改任务：%s") % measure, body=_("完成期限 %s") % due_date.isoformat(),
                   url=matter.get_absolute_url())
        locked.status = Status.REVIEWED
        locked.reviewed_at = when
        locked.save(update_fields=["status", "reviewed_at"])
        _entry(locked, EntryKind.REVIEW, user, _("复盘完成，整改措施 %d 项。") % len(measures), when=when)
        _audit(locked, "emergencies.review", user, {"measures": len(measures)})
    return review


def timeline_summary(emergency: Emergency) -> str:
    lines = []
    for entry in emergency.entries.select_related("actor").order_by("created_at", "pk"):
        who = entry.actor.get_full_name() if entry.actor_id else _("系统")
        text = entry.text.replace("\n", " ")[:120]
        lines.append(f"{_local(entry.created_at)} {entry.get_kind_display()}（{who}）{text}")
    return "\n".join(lines)
