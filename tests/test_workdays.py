"""The working-day calendar: China's holidays and make-up days, the cut-off rule, provisional years."""

import datetime as dt

from django.core.management import CommandError, call_command
from django.utils import timezone

import pytest

from portal.models import WorkDay, WorkDaySource
from portal.services.calendar import import_workdays, missing_years, set_workday
from portal.signals import calendar_changed
from portal.workdays import WorkCalendar, add_clock_hours, add_working_days, add_working_hours

pytestmark = pytest.mark.django_db


def at(y, m, d, hh=10, mm=0):
    return timezone.make_aware(dt.datetime(y, m, d, hh, mm))


@pytest.mark.usefixtures("calendar_2026")
@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        # National Day: 10-01..07 off, so the day after 09-30 is 10-08.
        (at(2026, 9, 30), 1, dt.date(2026, 10, 8)),
        # 10-10 is a make-up Saturday (调休上班).
        (at(2026, 10, 9), 1, dt.date(2026, 10, 10)),
        # 09-20 is a make-up Sunday before National Day.
        (at(2026, 9, 18), 1, dt.date(2026, 9, 20)),
        # Spring Festival 2026: 02-15..02-23 off; 02-14 (Sat) and 02-28 (Sat) are make-up days.
        (at(2026, 2, 13), 1, dt.date(2026, 2, 14)),
        (at(2026, 2, 14), 1, dt.date(2026, 2, 24)),
        (at(2026, 2, 13), 3, dt.date(2026, 2, 25)),
        # An ordinary week: Friday + 1 = Monday.
        (at(2026, 11, 20), 1, dt.date(2026, 11, 23)),
        # Zero days: end of the same working day.
        (at(2026, 11, 20), 0, dt.date(2026, 11, 20)),
    ],
)
def test_add_working_days_follows_official_calendar(start, days, expected):
    deadline = add_working_days(start, days)
    assert timezone.localtime(deadline.at).date() == expected
    assert timezone.localtime(deadline.at).time() == dt.time(17, 30)
    assert deadline.provisional is False


@pytest.mark.usefixtures("calendar_2026")
def test_spring_festival_days_are_off_and_make_up_saturday_is_on():
    cal = WorkCalendar()
    assert not cal.is_workday(dt.date(2026, 2, 17))  # 初一
    assert cal.is_workday(dt.date(2026, 2, 14))  # Saturday, 调休上班
    assert WorkDay.objects.get(date=dt.date(2026, 2, 17)).name == "春节"
    assert "调休" in WorkDay.objects.get(date=dt.date(2026, 2, 14)).name


@pytest.mark.usefixtures("calendar_2026")
def test_cut_off_work_after_hours_counts_from_next_workday():
    before = add_working_days(at(2026, 11, 18, 17, 29), 1)  # Wednesday, inside hours
    after = add_working_days(at(2026, 11, 18, 17, 30), 1)  # Wednesday, at the end of the day
    weekend = add_working_days(at(2026, 11, 21, 10, 0), 1)  # Saturday
    assert timezone.localtime(before.at).date() == dt.date(2026, 11, 19)
    assert timezone.localtime(after.at).date() == dt.date(2026, 11, 20)
    assert timezone.localtime(weekend.at).date() == dt.date(2026, 11, 24)


@pytest.mark.usefixtures("calendar_2026")
def test_working_hours_skip_lunch_nights_and_holidays():
    # 16:30 on 09-30 + 2 working hours: 1h left that day, then 1h from 08:30 on 10-08.
    deadline = add_working_hours(at(2026, 9, 30, 16, 30), 2)
    assert timezone.localtime(deadline.at) == at(2026, 10, 8, 9, 30)
    # 11:30 + 1h crosses the lunch break (12:00-13:30).
    assert timezone.localtime(add_working_hours(at(2026, 11, 19, 11, 30), 1).at) == at(2026, 11, 19, 14, 0)
    # Starting at night counts from the next morning: 3.5h before lunch, 0.5h after.
    assert timezone.localtime(add_working_hours(at(2026, 11, 19, 22, 0), 4).at) == at(2026, 11, 20, 14, 0)


def test_clock_hours_ignore_the_calendar():
    start = at(2026, 10, 1, 23, 0)  # a holiday night
    assert add_clock_hours(start, 2).at == start + dt.timedelta(hours=2)
    assert add_clock_hours(start, 0.5).provisional is False


@pytest.mark.usefixtures("calendar_2026")
def test_working_days_between_is_inverse_of_add():
    cal = WorkCalendar()
    start = at(2026, 9, 28)
    for n in range(12):
        assert cal.working_days_between(start, cal.add_working_days(start, n).at) == n
    assert cal.working_days_between(at(2026, 10, 8), at(2026, 9, 30)) == -1


@pytest.mark.usefixtures("calendar_2026")
def test_year_without_data_falls_back_to_weekdays_and_is_provisional():
    # 2027 is not in chinesecalendar 1.11: Thursday 2026-12-31 + 1 lands on Friday 2027-01-01 (a
    # real holiday, unknown yet) by the Monday-Friday fallback, and is marked provisional.
    deadline = add_working_days(at(2026, 12, 31), 1)
    assert timezone.localtime(deadline.at).date() == dt.date(2027, 1, 1)
    assert deadline.provisional is True
    assert add_working_days(at(2026, 12, 28), 1).provisional is False


@pytest.mark.usefixtures("calendar_2026")
def test_loading_a_year_makes_its_deadlines_final_and_signals_recompute(django_capture_on_commit_callbacks):
    years_seen = []

    def receiver(sender, years, **kwargs):
        years_seen.append(years)

    calendar_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            set_workday(dt.date(2027, 1, 1), is_workday=False, name="元旦")
    finally:
        calendar_changed.disconnect(receiver)
    assert years_seen == [{2027}]
    # One day of 2027 known: the year counts as loaded, the result is final and skips 01-01.
    deadline = add_working_days(at(2026, 12, 31), 1)
    assert deadline.provisional is False
    assert timezone.localtime(deadline.at).date() == dt.date(2027, 1, 4)


def test_import_unknown_year_fails_clearly_and_changes_nothing():
    with pytest.raises(CommandError, match="没有 2027 年的数据"):
        call_command("import_workdays", "--year", "2027")
    assert not WorkDay.objects.exists()


def test_import_is_idempotent_and_keeps_company_adjustments():
    set_workday(dt.date(2026, 7, 15), is_workday=False, name="台风停工")
    first = import_workdays(2026)
    second = import_workdays(2026)
    assert first.created == 364 and first.kept_company_days == 1
    assert second.created == 0 and second.updated == 0
    day = WorkDay.objects.get(date=dt.date(2026, 7, 15))
    assert day.is_workday is False and day.source == WorkDaySource.COMPANY
    assert WorkDay.objects.filter(date__year=2026).count() == 365


def test_dashboard_warns_about_next_year_from_november():
    import_workdays(2026)
    assert missing_years(dt.date(2026, 10, 31)) == []
    assert missing_years(dt.date(2026, 11, 1)) == [2027]
