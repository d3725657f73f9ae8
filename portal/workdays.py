"""Working-day arithmetic over the WorkDay table: the one API every deadline goes through.

Rules (documented in the README too):

* A day is a workday if the WorkDay table says so. For a year with no rows at all the calendar
  falls back to Monday-Friday, and every result that consulted such a year is *provisional*;
  deadlines stored from provisional results are recomputed when the year is loaded.
* Working hours are ``settings.PORTAL_WORKING_PERIODS`` (default ``08:30-12:00,13:30-17:30``).
* Cut-off: ``add_working_days(moment, n)`` counts from the day of ``moment`` when that day is a
  workday and ``moment`` is before the end of its working hours; otherwise (after hours, on a
  weekend or holiday) from the next workday, as if submitted first thing that morning. The
  deadline is the end of the working hours of the n-th workday after that start day. So
  Wednesday 10:00 + 1 working day = Thursday 17:30, and Wednesday 18:00 + 1 = Friday 17:30.
* ``add_working_hours`` consumes time only inside working periods of workdays.
* ``add_clock_hours`` ignores the calendar (emergencies run on the clock).

For loops over many deadlines build one ``WorkCalendar`` and reuse it: it loads each year once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

from django.conf import settings
from django.utils import timezone

MAX_SEARCH_DAYS = 3660  # ten years: a bound so a bad calendar can never loop forever


@dataclass(frozen=True)
class Deadline:
    """A computed moment and whether it rests on a year the calendar has no data for."""

    at: dt.datetime
    provisional: bool = False


def parse_periods(spec: str) -> list[tuple[dt.time, dt.time]]:
    periods = []
    for part in spec.split(","):
        start, end = (dt.time.fromisoformat(x.strip()) for x in part.split("-"))
        if end <= start:
            raise ValueError(f"working period {part!r} ends before it starts")
        periods.append((start, end))
    periods.sort()
    return periods


class WorkCalendar:
    """A snapshot of the WorkDay table, loaded lazily one year at a time."""

    def __init__(self, periods: str | None = None, tz=None):
        self.periods = parse_periods(periods or settings.PORTAL_WORKING_PERIODS)
        self.tz = tz or timezone.get_default_timezone()
        self._years: dict[int, dict[dt.date, bool] | None] = {}

    # -- days ---------------------------------------------------------------------------------

    def _year(self, year: int) -> dict[dt.date, bool] | None:
        if year not in self._years:
            from portal.models import WorkDay

            rows = dict(WorkDay.objects.filter(date__year=year).values_list("date", "is_workday"))
            self._years[year] = rows or None
        return self._years[year]

    def has_year(self, year: int) -> bool:
        return self._year(year) is not None

    def day_status(self, day: dt.date) -> tuple[bool, bool]:
        """(is_workday, provisional) for one date."""
        rows = self._year(day.year)
        if rows is None:
            return day.weekday() < 5, True
        if day in rows:
            return rows[day], False
        # A loaded year with a missing day (an administrator deleted one): weekday rule, not provisional.
        return day.weekday() < 5, False

    def is_workday(self, day: dt.date) -> bool:
        return self.day_status(day)[0]

    def next_workday(self, day: dt.date, *, provisional: list[bool] | None = None) -> dt.date:
        """The first workday strictly after ``day``."""
        for _ in range(MAX_SEARCH_DAYS):
            day += dt.timedelta(days=1)
            is_work, prov = self.day_status(day)
            if provisional is not None and prov:
                provisional[0] = True
            if is_work:
                return day
        raise ValueError("no workday found within ten years: check the calendar")

    # -- moments ------------------------------------------------------------------------------

    def local(self, moment: dt.datetime) -> dt.datetime:
        if timezone.is_naive(moment):
            return timezone.make_aware(moment, self.tz)
        return moment.astimezone(self.tz)

    def _at(self, day: dt.date, t: dt.time) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(day, t), self.tz)

    @cached_property
    def day_end(self) -> dt.time:
        return self.periods[-1][1]

    @cached_property
    def hours_per_day(self) -> float:
        return sum(
            (dt.datetime.combine(dt.date.min, e) - dt.datetime.combine(dt.date.min, s)).total_seconds()
            for s, e in self.periods
        ) / 3600

    def start_day(self, moment: dt.datetime, provisional: list[bool]) -> dt.date:
        """The workday counting starts from, applying the cut-off rule."""
        local = self.local(moment)
        is_work, prov = self.day_status(local.date())
        provisional[0] = provisional[0] or prov
        if is_work and local.time() < self.day_end:
            return local.date()
        return self.next_workday(local.date(), provisional=provisional)

    def add_working_days(self, moment: dt.datetime, n: int) -> Deadline:
        if n < 0:
            raise ValueError("n must not be negative")
        prov = [False]
        day = self.start_day(moment, prov)
        for _ in range(n):
            day = self.next_workday(day, provisional=prov)
        return Deadline(self._at(day, self.day_end), prov[0])

    def add_working_hours(self, moment: dt.datetime, hours: float) -> Deadline:
        if hours < 0:
            raise ValueError("hours must not be negative")
        prov = [False]
        remaining = dt.timedelta(hours=hours)
        local = self.local(moment)
        day = local.date()
        is_work, p = self.day_status(day)
        prov[0] = p
        cursor = local
        for _ in range(MAX_SEARCH_DAYS):
            if is_work:
                for start, end in self.periods:
                    p_start, p_end = self._at(day, start), self._at(day, end)
                    if cursor >= p_end:
                        continue
                    begin = max(cursor, p_start)
                    available = p_end - begin
                    if remaining <= available:
                        return Deadline(begin + remaining, prov[0])
                    remaining -= available
                    cursor = p_end
            day = self.next_workday(day, provisional=prov)
            is_work = True
            cursor = self._at(day, self.periods[0][0])
        raise ValueError("working hours exceed ten years")

    def working_days_between(self, start: dt.datetime, end: dt.datetime) -> int:
        """Workdays d with start's day < d <= end's day (negative when end is earlier).

        Consistent with add_working_days: for a start inside working hours,
        working_days_between(start, add_working_days(start, n).at) == n.
        """
        a, b = self.local(start).date(), self.local(end).date()
        sign = 1
        if b < a:
            a, b, sign = b, a, -1
        count, day = 0, a
        while day < b:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                count += 1
        return sign * count

    def working_hours_between(self, start: dt.datetime, end: dt.datetime) -> float:
        """Working time elapsed between two moments, in hours (for averages and reports)."""
        if end <= start:
            return -self.working_hours_between(end, start) if end < start else 0.0
        a, b = self.local(start), self.local(end)
        total = dt.timedelta()
        day = a.date()
        while day <= b.date():
            if self.is_workday(day):
                for s, e in self.periods:
                    lo = max(a, self._at(day, s))
                    hi = min(b, self._at(day, e))
                    if hi > lo:
                        total += hi - lo
            day += dt.timedelta(days=1)
        return total.total_seconds() / 3600


def add_clock_hours(moment: dt.datetime, hours: float) -> Deadline:
    """Emergencies run on the clock: calendar-independent, never provisional."""
    return Deadline(moment + dt.timedelta(hours=hours), False)


# Convenience functions for one-off use; each builds a fresh snapshot of the table.


def is_workday(day: dt.date) -> bool:
    return WorkCalendar().is_workday(day)


def add_working_days(moment: dt.datetime, n: int) -> Deadline:
    return WorkCalendar().add_working_days(moment, n)


def add_working_hours(moment: dt.datetime, hours: float) -> Deadline:
    return WorkCalendar().add_working_hours(moment, hours)


def working_days_between(start: dt.datetime, end: dt.datetime) -> int:
    return WorkCalendar().working_days_between(start, end)


def working_hours_between(start: dt.datetime, end: dt.datetime) -> float:
    return WorkCalendar().working_hours_between(start, end)
