"""iCalendar (RFC 5545/5546) invitations and the personal subscription feed.

One VEVENT per meeting with a stable ``UID`` (the meeting's uuid) and ``SEQUENCE`` raised on
every move or cancellation, so mail and phone calendars update the same entry instead of adding
a second one. Invitations are ``METHOD:REQUEST`` with ``ATTENDEE;RSVP=TRUE``; a cancelled
meeting is ``METHOD:CANCEL`` with ``STATUS:CANCELLED``. Feeds carry no METHOD (RFC 7986 style
subscriptions, which Outlook and iOS expect).
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from icalendar import Calendar, Event, vCalAddress, vText

from .models import Meeting, MeetingStatus

PRODID = "-//xietong-portal//meetings//ZH"


def _address(user) -> vCalAddress:
    addr = vCalAddress(f"mailto:{user.email or user.username + '@invalid'}")
    addr.params["CN"] = vText(user.get_full_name())
    return addr


def _event(meeting: Meeting, *, with_attendees: bool) -> Event:
    from django.urls import reverse

    ev = Event()
    ev.add("uid", f"{meeting.uid}@xietong-portal")
    ev.add("sequence", meeting.sequence)
    ev.add("dtstamp", timezone.now())
    ev.add("dtstart", meeting.start)
    ev.add("dtend", meeting.end)
    ev.add("summary", f"{meeting.type.name}：{meeting.subject}")
    ev.add("location", meeting.where)
    ev.add("url", settings.WAGTAILADMIN_BASE_URL.rstrip("/") + reverse("meetings:detail", args=[meeting.pk]))
    if meeting.reason:
        ev.add("description", meeting.reason)
    cancelled = meeting.status in {MeetingStatus.CANCELLED, MeetingStatus.REFUSED}
    ev.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    organiser = _address(meeting.organiser)
    ev.add("organizer", organiser)
    if with_attendees:
        for p in meeting.participants.all():
            att = _address(p.user)
            att.params["ROLE"] = vText("REQ-PARTICIPANT")
            att.params["PARTSTAT"] = vText(
                {"attend": "ACCEPTED", "leave": "DECLINED", "delegate": "DELEGATED"}.get(p.response, "NEEDS-ACTION")
            )
            att.params["RSVP"] = vText("TRUE")
            ev.add("attendee", att, encode=0)
    return ev


def _calendar(method: str | None) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    return cal


def invitation(meeting: Meeting) -> bytes:
    cancelled = meeting.status in {MeetingStatus.CANCELLED, MeetingStatus.REFUSED}
    cal = _calendar("CANCEL" if cancelled else "REQUEST")
    cal.add_component(_event(meeting, with_attendees=True))
    return cal.to_ical()


def feed(meetings) -> bytes:
    cal = _calendar(None)
    cal.add("x-wr-calname", "协调会议")
    for meeting in meetings:
        cal.add_component(_event(meeting, with_attendees=False))
    return cal.to_ical()
