"""Test helpers: a fixed clock moment, an event type, shifts and a report in one call."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from zoneinfo import ZoneInfo

from django.core.files.uploadedfile import SimpleUploadedFile

from .models import DutyShift, EmergencyType
from .services import report_emergency

TZ = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 12, 7, 10, 0, tzinfo=TZ)  # a Monday, 10:00


def elevator_type(org) -> EmergencyType:
    et, _ = EmergencyType.objects.get_or_create(name="电梯困人")
    et.departments.set([org.depts["engineering"], org.depts["security"]])
    return et


def shift(org, username, dept_code, start=T0 - dt.timedelta(hours=2), hours=12, **kw) -> DutyShift:
    dept = org.depts[dept_code] if dept_code else None
    return DutyShift.objects.create(department=dept, person=org.users[username], date=start.date(),
                                    starts_at=start, ends_at=start + dt.timedelta(hours=hours), **kw)


def standard_roster(org) -> None:
    shift(org, "eng_staff", "engineering", phone="13800000601")
    shift(org, "sec_staff", "security")
    shift(org, "site_staff", "sunshine")


def png_bytes() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 0, 0)).save(out, "PNG")
    return out.getvalue()


def photo_upload(name="scene.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes(), content_type="image/png")


def report(org, *, key=None, when=T0, reporter="site_staff", **kw):
    kw.setdefault("event_type", elevator_type(org))
    kw.setdefault("site", org.depts["sunshine"])
    kw.setdefault("location", "3 号楼 2 号电梯")
    return report_emergency(org.users[reporter], idempotency_key=key or uuid.uuid4().hex, when=when, **kw)
