"""Real ``qcluster`` processes on Redis: a task completes; two clusters share work exactly once.

Needs a Redis server at REDIS_TEST_URL (default redis://127.0.0.1:6379/14); skipped with the
reason when it is unreachable. The two-cluster test also needs PostgreSQL (the clusters and the
test share the test database).
"""

import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.db import connection

import pytest

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/14")

pytestmark = pytest.mark.redis


@pytest.fixture
def redis_url():
    import redis

    try:
        redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001 - any failure means "no Redis here"
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
    return REDIS_URL


def _env(database_url, redis_url, cluster):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.dev",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "Q_CLUSTER_NAME": cluster,
        "Q_WORKERS": "2",
        "SECRET_KEY": settings.SECRET_KEY,  # the test process signs the tasks it enqueues
        "PORTAL_WEBHOOK_ALLOW_LOOPBACK": "1",
        "LOG_LEVEL": "WARNING",
    }
    return env


def _start(env, log_path):
    log = open(log_path, "w")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    proc.log = log
    return proc


def _stop(procs):
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.log.close()


def _broker(monkeypatch, redis_url, cluster):
    from django_q.brokers.redis_broker import Redis
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "REDIS", redis_url)
    monkeypatch.setattr(Conf, "PREFIX", cluster)  # the signing salt: the cluster name
    broker = Redis(list_key=cluster)
    broker.purge_queue()
    return broker


def _wait(predicate, timeout, procs, logs):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        dead = [p for p in procs if p.poll() is not None]
        if dead:
            pytest.fail("qcluster exited early:\n" + "\n".join(Path(p).read_text()[-3000:] for p in logs))
        time.sleep(0.5)
    return False


def test_a_real_qcluster_on_redis_completes_a_task(redis_url, tmp_path, monkeypatch):
    from django_q.tasks import async_task

    db = tmp_path / "worker.sqlite3"
    cluster = f"t{uuid.uuid4().hex[:8]}"
    env = _env(f"sqlite:///{db}", redis_url, cluster)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=300
    )
    broker = _broker(monkeypatch, redis_url, cluster)
    task_id = async_task("portal.tasks.ping", "来自测试", broker=broker, sync=False, task_name="redis-ping")
    assert broker.queue_size() == 1
    log = tmp_path / "qcluster.log"
    proc = _start(env, log)

    def done():
        with sqlite3.connect(db) as conn:
            row = conn.execute("SELECT success FROM django_q_task WHERE id = ?", [task_id]).fetchone()
        return row is not None

    try:
        finished = _wait(done, 90, [proc], [log])
    finally:
        _stop([proc])
    assert finished, log.read_text()[-3000:]
    with sqlite3.connect(db) as conn:
        success, name = conn.execute("SELECT success, name FROM django_q_task WHERE id = ?", [task_id]).fetchone()
    assert success == 1 and name == "redis-ping"
    assert broker.queue_size() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_clusters_share_deliveries_exactly_once(redis_url, org, tmp_path, monkeypatch):
    from django_q.tasks import async_task

    from portal.notifications.models import Channel, GroupRobot, Notification, Status

    from .test_notifications_webhooks import SECRET, RobotServer

    cluster = f"t{uuid.uuid4().hex[:8]}"
    db = connection.settings_dict
    database_url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = _env(database_url, redis_url, cluster)
    broker = _broker(monkeypatch, redis_url, cluster)
    with RobotServer(secret=SECRET) as server:
        robot = GroupRobot.objects.create(
            department=org.depts["engineering"], name="工程部群", provider="dingtalk",
            webhook_url=server.url, secret=SECRET, kinds=["x"],
        )
        Notification.objects.bulk_create(
            Notification(robot=robot, channel=Channel.ROBOT, kind="x", event_key=f"e{i}", title=f"第 {i} 条")
            for i in range(30)
        )
        pks = list(Notification.objects.values_list("pk", flat=True))
        # Every row is queued twice, one task per row, as two careless senders would.
        for _ in range(2):
            for pk in pks:
                async_task("portal.notifications.tasks.deliver_notifications", [pk], broker=broker, sync=False)
        logs = [tmp_path / "a.log", tmp_path / "b.log"]
        procs = [_start(env, log) for log in logs]
        try:
            finished = _wait(
                lambda: not Notification.objects.exclude(status=Status.SENT).exists() and broker.queue_size() == 0,
                120,
                procs,
                logs,
            )
            time.sleep(2)  # let the duplicate tasks finish (they must skip)
        finally:
            _stop(procs)
    assert finished, "\n".join(log.read_text()[-2000:] for log in logs)
    assert len(server.requests) == 30
    assert sorted(r["body"]["markdown"]["title"] for r in server.requests) == sorted(f"第 {i} 条" for i in range(30))
    assert all(server.signature_ok(r["query"]) for r in server.requests)
    assert set(Notification.objects.values_list("attempts", flat=True)) == {1}
