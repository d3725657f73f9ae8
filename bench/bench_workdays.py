"""Working-day arithmetic: 10,000 deadlines through the calendar table vs. a bare weekday loop."""

import datetime as dt

from harness import emit, setup_django, timed


def main():
    setup_django()
    from django.utils import timezone

    from portal.services.calendar import import_workdays
    from portal.workdays import WorkCalendar

    import_workdays(2025)
    import_workdays(2026)
    tz = timezone.get_default_timezone()
    starts = [
        dt.datetime(2026, 1, 1, 9, 0, tzinfo=tz) + dt.timedelta(minutes=47 * i) for i in range(10_000)
    ]
    starts = [s for s in starts if s.year == 2026][:10_000]

    def with_calendar():
        cal = WorkCalendar()
        for s in starts:
            cal.add_working_days(s, 3)

    def bare_weekdays():
        # The baseline: the same walk with a Monday-Friday rule and no table, no cut-off.
        for s in starts:
            day, n = s.date(), 0
            while n < 3:
                day += dt.timedelta(days=1)
                if day.weekday() < 5:
                    n += 1
            dt.datetime.combine(day, dt.time(17, 30), tzinfo=tz)

    value = timed(with_calendar)
    baseline = timed(bare_weekdays)
    emit("workdays.add_working_days_x%d" % len(starts), value * 1000, "ms", baseline * 1000)


if __name__ == "__main__":
    main()
