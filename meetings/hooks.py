"""The ``portal_schedule_meeting`` hook: other apps convene a meeting without importing us.

    for fn in hooks.get_hooks("portal_schedule_meeting"):
        meeting = fn(type_code="emergency", subject=..., reason=..., organiser=user,
                     departments=[...], related_matters=[...], due_by=deadline)
        if meeting is not None:
            break
"""

from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone
from django.utils.translation import gettext as _

from portal.workdays import WorkCalendar

from .models import Meeting, MeetingType

logger = logging.getLogger(__name__)


def _first_free_slot(mtype: MeetingType, due_by, now) -> tuple[dt.datetime, dt.datetime]:
    """The next working day at 09:00 (or 14:00 when today's morning has passed), not after
    ``due_by`` when that is given (then ``due_by`` minus the meeting length, or one hour from now)."""
    cal = WorkCalendar()
    length = dt.timedelta(minutes=mtype.recur_minutes or 60)
    local = timezone.localtime(now)
    day = local.date()
    if cal.is_workday(day) and local.hour < 13:
        start = timezone.make_aware(dt.datetime.combine(day, dt.time(14, 0)))
    else:
        start = timezone.make_aware(dt.datetime.combine(cal.next_workday(day), dt.time(9, 0)))
    if due_by is not None:
        if isinstance(due_by, dt.date) and not isinstance(due_by, dt.datetime):
            due_by = timezone.make_aware(dt.datetime.combine(due_by, dt.time(17, 0)))
        if start + length > due_by:
            start = max(now + dt.timedelta(hours=1), due_by - length)
    return start, start + length


def schedule_meeting(*, type_code, subject, reason, organiser, departments, related_matters=(), due_by=None):
    """Schedule (no approval round) a meeting of type ``type_code`` with the departments' heads
    invited and notified. Returns the meeting, or None when the type does not exist or the
    request is invalid (the reason is logged)."""
    from . import services

    mtype = MeetingType.objects.filter(code=type_code, is_active=True).first()
    if mtype is None:
        return None
    now = timezone.now()
    start, end = _first_free_slot(mtype, due_by, now)
    try:
        return services.request_meeting(
            mtype=mtype, subject=subject, reason=reason, organiser=organiser, start=start, end=end,
            room=None, place=str(_("会议地点待通知")), departments=list(departments),
            related_matters=list(related_matters), chair=mtype.default_chair, source="hook",
            schedule_now=True, now=now,
        )
    except services.MeetingError as exc:
        logger.warning("portal_schedule_meeting(%s) refused: %s", type_code, exc)
        return None


__all__ = ["schedule_meeting", "Meeting"]
