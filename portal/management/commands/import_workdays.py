"""Load a year of China's official working calendar from chinesecalendar."""

from django.core.management.base import BaseCommand, CommandError

from portal.services.calendar import CalendarUnavailable, import_workdays


class Command(BaseCommand):
    help = "从 chinesecalendar 导入某一年的法定节假日与调休安排。"

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True, help="年份，例如 2026")
        parser.add_argument(
            "--replace-company-days", action="store_true", help="同时覆盖后台手工调整过的日期（默认保留）"
        )

    def handle(self, *args, year, replace_company_days, **options):
        try:
            result = import_workdays(year, replace_company_days=replace_company_days)
        except CalendarUnavailable as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"{year} 年：新增 {result.created} 天，更新 {result.updated} 天，"
                f"保留公司调整 {result.kept_company_days} 天；全年工作日 {result.workdays} 天。"
            )
        )
