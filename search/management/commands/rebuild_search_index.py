"""Rebuild the search index from every registered provider (or only the kinds given)."""

from django.core.management.base import BaseCommand, CommandError

from search.indexing import rebuild_index
from search.providers import providers


class Command(BaseCommand):
    help = "重建站内搜索索引（可只重建指定类型，例如 --kind notice）。"

    def add_arguments(self, parser):
        parser.add_argument("--kind", action="append", dest="kinds", help="只重建该类型（可多次指定）")
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, kinds=None, batch_size=500, **options):
        known = providers()
        unknown = [k for k in kinds or [] if k not in known]
        if unknown:
            raise CommandError("未知的类型：%s（可用：%s）" % (", ".join(unknown), ", ".join(known)))
        reports = rebuild_index(kinds, batch_size=batch_size, log=self.stdout.write)
        total = sum(r.indexed for r in reports)
        seconds = sum(r.seconds for r in reports)
        self.stdout.write(self.style.SUCCESS(f"搜索索引已重建：{total} 条，用时 {seconds:.1f} 秒。"))
