"""Reminders: the rate-limited “提醒未读”, automatic reminders before the deadline and the
department heads' lists after it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from wagtail.log_actions import log

from portal.notifications.services import notify

from ..audience import audience_users
from ..models import NoticePage, NoticeReceipt, NoticeReminder, NoticeSettings
from .reading import (
    ACTION_EXPORT,
    ACTION_OVERDUE,
    ACTION_REMIND,
    ACTION_REMIND_AUTO,
    NoticeError,
    ReminderTooSoon,
    _confirm_request_text,
)

# Reminders --------------------------------------------------------------------


def unconfirmed_users(notice: NoticePage):
    confirmed = NoticeReceipt.objects.filter(notice_id=notice.pk, version=notice.version, user_id=OuterRef("pk"))
    return audience_users(notice).filter(~Q(Exists(confirmed)))


def remind_unconfirmed(notice: NoticePage, user) -> int:
    """The admin action “提醒未读”: notify everyone who has not confirmed. At most once per
    interval (30 minutes by default) per notice. Returns how many people were notified."""
    interval = dt.timedelta(minutes=NoticeSettings.load().manual_remind_interval)
    with transaction.atomic():
        notice = NoticePage.objects.select_for_update().get(pk=notice.pk)
        if not notice.requires_confirmation or notice.version == 0:
            raise NoticeError(_("该通告无需确认已阅，不能提醒。"))
        if not notice.live or notice.is_expired_now:
            raise NoticeError(_("该通告未发布或已过期，不能提醒。"))
        now = timezone.now()
        last = NoticeReminder.objects.filter(notice=notice, kind=NoticeReminder.Kind.MANUAL).order_by("-sent_at").first()
        if last and last.sent_at > now - interval:
            next_at = last.sent_at + interval
            raise ReminderTooSoon(
                _("%(time)s 已提醒过，同一通告 %(minutes)d 分钟内只能提醒一次，请在 %(next)s 后再试。")
                % {
                    "time": timezone.localtime(last.sent_at).strftime("%H:%M"),
                    "minutes": interval.total_seconds() // 60,
                    "next": timezone.localtime(next_at).strftime("%H:%M"),
                },
                next_at,
            )
        recipients = list(unconfirmed_users(notice).only("pk", "is_active"))
        if not recipients:
            return 0
        reminder = NoticeReminder.objects.create(
            notice=notice, version=notice.version, kind=NoticeReminder.Kind.MANUAL, sent_by=user, sent_at=now
        )
        count = notify(
            recipients,
            kind="notice.remind",
            event_key=f"notice:{notice.pk}:rev:{notice.version}:remind:{reminder.pk}",
            title=_("请确认已阅：%(title)s") % {"title": notice.title},
            body=_confirm_request_text(notice),
            url=notice.get_url() or "",
        )
        NoticeReminder.objects.filter(pk=reminder.pk).update(recipients=count)
        log(instance=notice, action=ACTION_REMIND, user=user, title=notice.title, data={"recipients": count})
    return count


@dataclass
class SweepResult:
    reminders: int = 0
    reminded_people: int = 0
    overdue_reports: int = 0
    heads_notified: int = 0


def send_due_reminders(now: dt.datetime | None = None) -> SweepResult:
    """The schedule's sweep: reminders at the configured offsets before each deadline, and the
    department heads' lists once the deadline has passed. Idempotent (one row per round)."""
    now = now or timezone.now()
    result = SweepResult()
    offsets = NoticeSettings.load().offsets
    base = NoticePage.objects.needing_confirmation().filter(confirm_deadline__isnull=False)
    if offsets:
        upcoming = base.filter(confirm_deadline__gt=now, confirm_deadline__lte=now + dt.timedelta(hours=max(offsets)))
        for notice in upcoming:
            due = [h for h in offsets if notice.confirm_deadline - dt.timedelta(hours=h) <= now]
            # Offsets that fell before this version started would only repeat the announcement.
            due = [
                h
                for h in due
                if notice.version_started_at is None
                or notice.confirm_deadline - dt.timedelta(hours=h) >= notice.version_started_at
            ]
            if not due:
                continue
            claimed = [h for h in due if _claim_round(notice, NoticeReminder.Kind.AUTO, h, now)]
            if claimed and min(claimed) == min(due):
                result.reminders += 1
                result.reminded_people += _auto_remind(notice, min(due))
    recent = base.filter(confirm_deadline__lte=now, confirm_deadline__gt=now - dt.timedelta(days=7))
    for notice in recent:
        if _claim_round(notice, NoticeReminder.Kind.OVERDUE, 0, now):
            result.overdue_reports += 1
            result.heads_notified += report_overdue(notice)
    return result


def _claim_round(notice, kind, offset_hours, now) -> bool:
    try:
        with transaction.atomic():
            NoticeReminder.objects.create(
                notice=notice, version=notice.version, kind=kind, offset_hours=offset_hours, sent_at=now
            )
        return True
    except IntegrityError:
        return False


def _auto_remind(notice: NoticePage, offset_hours: int) -> int:
    count = notify(
        unconfirmed_users(notice).only("pk", "is_active"),
        kind="notice.remind",
        event_key=f"notice:{notice.pk}:rev:{notice.version}:remind:auto-{offset_hours}h",
        title=_("即将截止，请确认已阅：%(title)s") % {"title": notice.title},
        body=_confirm_request_text(notice),
        url=notice.get_url() or "",
    )
    NoticeReminder.objects.filter(
        notice=notice, version=notice.version, kind=NoticeReminder.Kind.AUTO, offset_hours=offset_hours
    ).update(recipients=count)
    log(instance=notice, action=ACTION_REMIND_AUTO, title=notice.title, data={"hours": offset_hours, "recipients": count})
    return count


def report_overdue(notice: NoticePage) -> int:
    """After the deadline: each department head gets the names of their people who have not
    confirmed. People without a department go to the issuing department's head."""
    people = list(
        unconfirmed_users(notice)
        .select_related("department__head")
        .order_by("department__sort_order", "department_id", "employee_no", "pk")
    )
    fallback = notice.issuing_department.head
    groups: dict[int | None, list] = {}
    for person in people:
        groups.setdefault(person.department_id, []).append(person)
    heads = 0
    deadline = timezone.localtime(notice.confirm_deadline).strftime("%m月%d日 %H:%M")
    for dept_id, members in groups.items():
        dept = members[0].department
        head = (dept.head if dept else None) or fallback
        if head is None:
            continue
        names = "、".join(p.get_full_name() for p in members[:50]) + ("等" if len(members) > 50 else "")
        where = dept.name if dept else _("未分配部门")
        heads += notify(
            [head],
            kind="notice.overdue_department",
            event_key=f"notice:{notice.pk}:rev:{notice.version}:overdue:{dept_id or 0}",
            title=_("%(dept)s有 %(n)d 人逾期未确认：%(title)s") % {"dept": where, "n": len(members), "title": notice.title},
            body=_("确认截止 %(deadline)s 已过，以下人员尚未确认已阅：%(names)s。请督促其尽快阅读确认。")
            % {"deadline": deadline, "names": names},
            url=notice.get_url() or "",
        )
    NoticeReminder.objects.filter(notice=notice, version=notice.version, kind=NoticeReminder.Kind.OVERDUE).update(
        recipients=heads
    )
    log(instance=notice, action=ACTION_OVERDUE, title=notice.title, data={"people": len(people), "heads": heads})
    return heads


def log_export(notice: NoticePage, user, fmt: str) -> None:
    log(instance=notice, action=ACTION_EXPORT, user=user, title=notice.title, data={"format": fmt})
