"""`make demo`'s serve_with_worker on the embedded defaults (SQLite, ORM broker): the web server
answers, the worker runs the schedules and a digest it produces reaches the inbox and the
console email; SIGTERM stops both."""

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

ENQUEUE = """
from django_q.tasks import async_task
from portal.models import User
from portal.notifications.services import notify
u = User.objects.create_user("worker_demo", email="worker_demo@example.com", name="演示员工")
notify([u], kind="x", event_key="unread-1", title="请确认通告：冬季消防检查", channels=["inbox"])
async_task("portal.notifications.tasks.send_daily_digest", force=True)
"""


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rows(db, sql):
    with sqlite3.connect(db, timeout=20) as conn:
        return conn.execute(sql).fetchall()


def test_serve_with_worker_on_the_orm_broker(tmp_path):
    db = tmp_path / "db.sqlite3"  # PORTAL_VAR_DIR/db.sqlite3, the embedded default
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")},
        "DJANGO_SETTINGS_MODULE": "portal.settings.dev",
        "PORTAL_VAR_DIR": str(tmp_path),
        "LOG_LEVEL": "WARNING",
    }
    manage = [sys.executable, "manage.py"]
    for command in (["migrate", "-v0"], ["createcachetable"], ["setup_schedules"]):
        subprocess.run([*manage, *command], cwd=ROOT, env=env, check=True, timeout=300, capture_output=True)
    subprocess.run([*manage, "shell", "-c", ENQUEUE], cwd=ROOT, env=env, check=True, timeout=120, capture_output=True)
    port = _free_port()
    log = tmp_path / "serve.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [*manage, "serve_with_worker", f"127.0.0.1:{port}"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 120
            digest = beat = []
            while time.monotonic() < deadline and not (digest and beat):
                assert proc.poll() is None, log.read_text()[-3000:]
                time.sleep(1)
                digest = _rows(
                    db,
                    "SELECT n.channel, n.status FROM notifications_notification n JOIN portal_user u "
                    "ON u.id = n.recipient_id WHERE u.username = 'worker_demo' AND n.kind = 'digest.daily'",
                )
                beat = _rows(db, "SELECT beat_at FROM notifications_workerheartbeat")
            assert sorted(digest) == [("email", "sent"), ("inbox", "sent")], log.read_text()[-3000:]
            assert beat, "the heartbeat schedule never ran"
            login = urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=10)  # noqa: S310
            assert login.status == 200
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=40)
    output = log.read_text()
    assert "To: worker_demo@example.com" in output and "请确认通告：冬季消防检查" in output
    assert "qcluster" not in subprocess.run(["ps", "-o", "args=", "--ppid", str(proc.pid)], capture_output=True, text=True).stdout
