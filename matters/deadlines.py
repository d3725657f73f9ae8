"""Deadline arithmetic for matters: a policy's amounts turned into moments on the work calendar.

A policy counts in working days (the default: China's calendar, make-up days included) or in
clock hours (emergencies). Amounts in working days may be fractional (0.5 = half a working
day, counted in working hours). Every result carries ``provisional`` when it rests on a year the
calendar does not know yet.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from portal.workdays import Deadline, WorkCalendar, add_clock_hours

WORKDAYS = "workdays"
CLOCK = "clock"


def add(cal: WorkCalendar, unit: str, moment: dt.datetime, amount) -> Deadline:
    amount = Decimal(str(amount))
    if unit == CLOCK:
        return add_clock_hours(moment, float(amount))
    if amount == amount.to_integral_value():
        return cal.add_working_days(moment, int(amount))
    return cal.add_working_hours(moment, float(amount) * cal.hours_per_day)


def subtract_working_hours(cal: WorkCalendar, moment: dt.datetime, hours: float) -> dt.datetime:
    """The moment ``hours`` working hours before ``moment`` (for "remind 4 hours before")."""
    remaining = dt.timedelta(hours=hours)
    local = cal.local(moment)
    day = local.date()
    cursor = local
    for _ in range(3660):
        if cal.is_workday(day):
            for start, end in reversed(cal.periods):
                p_start, p_end = cal._at(day, start), cal._at(day, end)
                if cursor <= p_start:
                    continue
                finish = min(cursor, p_end)
                available = finish - p_start
                if remaining <= available:
                    return finish - remaining
                remaining -= available
                cursor = p_start
        day -= dt.timedelta(days=1)
        cursor = cal._at(day, dt.time(23, 59, 59))
    return moment - dt.timedelta(hours=hours)


def before(cal: WorkCalendar, unit: str, moment: dt.datetime, hours: float) -> dt.datetime:
    if unit == CLOCK:
        return moment - dt.timedelta(hours=hours)
    return subtract_working_hours(cal, moment, hours)


def shift_by_pause(cal: WorkCalendar, unit: str, due: dt.datetime | None, paused_hours: float) -> dt.datetime | None:
    """A deadline pushed back by the working time the matter spent waiting for the submitter."""
    if due is None or not paused_hours:
        return due
    if unit == CLOCK:
        return due + dt.timedelta(hours=paused_hours)
    return cal.add_working_hours(due, paused_hours).at


def paused_amount(cal: WorkCalendar, unit: str, start: dt.datetime, end: dt.datetime) -> float:
    if unit == CLOCK:
        return max(0.0, (end - start).total_seconds() / 3600)
    return cal.working_hours_between(start, end)
