"""Create the background schedules every app declares; safe to run on every deploy."""

from django.core.management.base import BaseCommand

from portal.schedules import ensure_schedules


class Command(BaseCommand):
    help = "创建或更新后台定时任务（可重复运行，不会重复创建）。"

    def handle(self, *args, **options):
        created, updated = ensure_schedules()
        self.stdout.write(f"定时任务：新增 {created} 个，更新 {updated} 个。")
