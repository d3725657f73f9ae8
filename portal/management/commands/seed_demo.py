"""Load the demo organisation, calendar and each feature app's demo content (idempotent)."""

import logging

from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings

from wagtail import hooks

from portal.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, seed_calendar, seed_organisation


class Command(BaseCommand):
    help = "创建演示数据（可重复运行，不会产生重复数据）。"

    def handle(self, *args, **options):
        log = self.stdout.write
        logging.getLogger("django-q").setLevel(logging.WARNING)  # not one "Enqueued" line per task
        # Mail that the demo's own actions would send (workflow notices, welcome messages) is
        # kept out of the console: the demo starts with an empty outbox.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"), transaction.atomic():
            seed_organisation(log)
            seed_calendar(log)
            # Feature apps register ("portal_seed_demo") functions taking a log callable;
            # the order attribute (default 100) decides who runs first.
            seeders = sorted(hooks.get_hooks("portal_seed_demo"), key=lambda fn: getattr(fn, "order", 100))
            for seed in seeders:
                seed(log)
        log(self.style.SUCCESS("演示数据已就绪。演示账号（密码均为 %s）：" % DEMO_PASSWORD))
        for username, role in DEMO_ACCOUNTS:
            log(f"  {username:<12} {role}")
