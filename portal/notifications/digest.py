"""The daily digest (每日待办摘要): one message per person per working day.

Apps contribute sections with the ``portal_digest_sections`` Wagtail hook:
``fn(user) -> {"title": str, "items": [{"text": str, "url": str}]} | None``. People with no
section to show get nothing. The event key carries the date, so a second run on the same day
(a restarted worker, an administrator pressing "run now") sends nothing new.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone

from wagtail import hooks

from portal import workdays

from .kinds import DIGEST_DAILY
from .services import notify

logger = logging.getLogger(__name__)


def sections_for(user) -> list[dict]:
    sections = []
    for fn in hooks.get_hooks("portal_digest_sections"):
        try:
            section = fn(user)
        except Exception:  # one broken section must not cost everyone their digest
            logger.exception("Digest section %s failed for user %s", getattr(fn, "__name__", fn), user.pk)
            continue
        if section and section.get("items"):
            sections.append(
                {
                    "title": str(section.get("title", "")),
                    "items": [
                        {"text": str(i.get("text", "")), "url": str(i.get("url", "") or "")} for i in section["items"]
                    ],
                }
            )
    return sections


def render_text(sections: list[dict]) -> str:
    lines = []
    for section in sections:
        lines.append(f"【{section['title']}】")
        lines.extend(f"· {item['text']}" for item in section["items"])
        lines.append("")
    return "\n".join(lines).strip()


def send_daily_digest(day: dt.date | None = None, *, force: bool = False) -> dict:
    """Send today's digest to everyone with something to report; only on working days."""
    from portal.models import User

    day = day or timezone.localdate()
    if not force and not workdays.is_workday(day):
        return {"day": day.isoformat(), "skipped": "not a working day", "sent": 0}
    sent = people = 0
    title = f"每日待办摘要 · {day.month}月{day.day}日"
    for user in list(User.objects.filter(is_active=True).select_related("department").order_by("pk")):
        sections = sections_for(user)
        if not sections:
            continue
        people += 1
        sent += notify(
            [user],
            kind=DIGEST_DAILY,
            event_key=f"digest:daily:{day.isoformat()}",
            title=title,
            body=render_text(sections),
            url="/inbox/",
            data={"sections": sections},
        )
    return {"day": day.isoformat(), "people": people, "sent": sent}
