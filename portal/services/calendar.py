"""Loading and editing the working-day calendar."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from portal.models import WorkDay, WorkDaySource
from portal.signals import calendar_changed

# chinesecalendar names its holidays in English; what users read is Chinese.
HOLIDAY_NAMES_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


class CalendarUnavailable(Exception):
    """The calendar library has no data for the requested year."""


@dataclass
class ImportResult:
    year: int
    created: int
    updated: int
    kept_company_days: int
    workdays: int


def official_year(year: int) -> list[tuple[dt.date, bool, str]]:
    """Every day of ``year`` from chinesecalendar as (date, is_workday, name)."""
    import chinese_calendar

    day = dt.date(year, 1, 1)
    result = []
    try:
        while day.year == year:
            on_holiday, name = chinese_calendar.get_holiday_detail(day)
            is_work = not on_holiday
            label = ""
            if name:
                zh = HOLIDAY_NAMES_ZH.get(name, name)
                label = zh if on_holiday else _("调休上班（%(name)s）") % {"name": zh}
            elif on_holiday:
                label = _("周末")
            result.append((day, is_work, label))
            day += dt.timedelta(days=1)
    except NotImplementedError as exc:
        raise CalendarUnavailable(
            _("日历库（chinesecalendar）没有 %(year)s 年的数据：国务院公布放假安排并升级该库后再导入，或在后台逐日维护。")
            % {"year": year}
        ) from exc
    return result


@transaction.atomic
def import_workdays(year: int, *, replace_company_days: bool = False) -> ImportResult:
    """Load a year from chinesecalendar. Company adjustments are kept unless asked to replace them.

    Fetches everything first, so an unavailable year changes nothing.
    """
    days = official_year(year)
    existing = {wd.date: wd for wd in WorkDay.objects.select_for_update().filter(date__year=year)}
    created = updated = kept = 0
    to_create = []
    for day, is_work, name in days:
        row = existing.get(day)
        if row is None:
            to_create.append(WorkDay(date=day, is_workday=is_work, name=name, source=WorkDaySource.OFFICIAL))
            created += 1
        elif row.source == WorkDaySource.COMPANY and not replace_company_days:
            kept += 1
        elif (row.is_workday, row.name, row.source) != (is_work, name, WorkDaySource.OFFICIAL):
            row.is_workday, row.name, row.source = is_work, name, WorkDaySource.OFFICIAL
            row.save(update_fields=["is_workday", "name", "source", "updated_at"])
            updated += 1
    WorkDay.objects.bulk_create(to_create)
    workdays = WorkDay.objects.filter(date__year=year, is_workday=True).count()
    transaction.on_commit(lambda: calendar_changed.send(sender=WorkDay, years={year}))
    return ImportResult(year, created, updated, kept, workdays)


@transaction.atomic
def set_workday(day: dt.date, *, is_workday: bool, name: str = "", note: str = "", user=None) -> WorkDay:
    """An administrator's adjustment of one day (company closure, typhoon day, extra make-up day)."""
    row, _created = WorkDay.objects.update_or_create(
        date=day,
        defaults={
            "is_workday": is_workday,
            "name": name,
            "note": note,
            "source": WorkDaySource.COMPANY,
            "updated_by": user,
        },
    )
    transaction.on_commit(lambda: calendar_changed.send(sender=WorkDay, years={day.year}))
    return row


def missing_years(today: dt.date) -> list[int]:
    """Years the dashboard should warn about: this year if absent; next year from 1 November."""
    years = [today.year]
    if today.month >= 11:
        years.append(today.year + 1)
    present = {d.year for d in WorkDay.objects.filter(date__year__in=years).dates("date", "year")}
    return [y for y in years if y not in present]
