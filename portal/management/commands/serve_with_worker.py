"""Serve the portal and run the django-q2 worker together; Ctrl-C stops both."""

import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "同时启动网站（runserver）和后台任务进程（qcluster），Ctrl-C 同时停止。"

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")

    def handle(self, *args, addrport, **options):
        manage = [sys.executable, "manage.py"]
        procs = [
            subprocess.Popen([*manage, "qcluster"]),  # noqa: S603 - our own manage.py
            subprocess.Popen([*manage, "runserver", addrport, "--noreload"]),  # noqa: S603
        ]
        broker = "Redis" if settings.Q_CLUSTER.get("redis") else "数据库（ORM）"
        self.stdout.write(
            self.style.SUCCESS(f"门户：http://{addrport}/  （后台任务进程已启动，队列：{broker}；按 Ctrl-C 停止）")
        )

        def stop(*_):
            # SIGTERM, not SIGINT: a shell starts background jobs with SIGINT ignored, and both
            # qcluster and runserver stop cleanly on SIGTERM.
            for p in procs:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 15
            for p in procs:
                try:
                    p.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    p.kill()

        signal.signal(signal.SIGTERM, stop)
        try:
            while all(p.poll() is None for p in procs):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            stop()
        failed = [p.returncode for p in procs if p.returncode not in (0, None, -signal.SIGINT, -signal.SIGTERM)]
        if failed:
            sys.exit(1)
