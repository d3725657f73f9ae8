"""The django-q2 worker is killed (SIGKILL, the whole process group) in the middle of PDF
archives and of a reminder sweep, then restarted: no work lost, none done twice.

The cluster uses the ORM broker on the stack's PostgreSQL database: a task stays in the queue,
locked, until it is acknowledged, so a task whose worker died is delivered again once its lock
(Q_CLUSTER["retry"] = Q_TIMEOUT + 60 s) runs out. (django-q2's Redis broker removes a task
from the list when a worker takes it, so a SIGKILL there loses the task; see
docs/reliability.md.)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psycopg

from .conftest import ROOT, report

Q_TIMEOUT = 45
MATTERS = int(os.environ.get("RELIABILITY_SWEEP_MATTERS", "120"))
LETTERS = int(os.environ.get("RELIABILITY_ARCHIVE_LETTERS", "8"))


class Cluster:
    def __init__(self, stack, log_name: str):
        self.stack = stack
        self.log = open(os.path.join(stack.env["PORTAL_VAR_DIR"], log_name), "w")  # noqa: SIM115
        self.proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "manage.py", "qcluster"], cwd=ROOT,
            env={**stack.env, "Q_TIMEOUT": str(Q_TIMEOUT), "Q_WORKERS": "2"},
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def kill(self):
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


def _query(url: str, sql: str, params=()):
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(sql, params).fetchone()


def _queued(url: str) -> int:
    return _query(url, "SELECT count(*) FROM django_q_ormq")[0]


def _progress(url: str, letter_ids, matter_ids) -> dict:
    done, rendering = _query(
        url,
        "SELECT count(*) FILTER (WHERE status = 'done'), count(*) FILTER (WHERE status <> 'done' AND attempts > 0) "
        "FROM letters_letterarchive WHERE letter_id = ANY(%s)",
        [letter_ids],
    )
    swept = _query(url, "SELECT count(*) FROM matters_matter WHERE id = ANY(%s) AND swept_until IS NOT NULL",
                   [matter_ids])[0]
    return {"archives_done": done, "archives_rendering": rendering, "matters_swept": swept}


def _wait(predicate, timeout: float, step: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


def test_worker_killed_mid_archive_and_mid_sweep_loses_nothing_and_repeats_nothing(stack):
    url = stack.database_url
    matter_ids = stack.call("worker_matters", matters=MATTERS)["matter_ids"]

    # The seed and the matters above queued search indexing and e-mail: let a cluster drain it,
    # so the kill lands in the work under test.
    cluster = Cluster(stack, "qcluster-1.log")
    try:
        assert _wait(lambda: _queued(url) == 0, 240, 1), "the queue did not drain"
        letter_ids = stack.call("worker_letters", letters=LETTERS)["letter_ids"]

        def mid_way():
            p = _progress(url, letter_ids, matter_ids)
            return p if p["archives_done"] >= 1 and p["archives_rendering"] >= 1 else None

        at_kill = _wait(mid_way, 120, 0.2) or _progress(url, letter_ids, matter_ids)
        cluster.kill()
    finally:
        cluster.stop()
    at_kill = _progress(url, letter_ids, matter_ids)  # what the dead cluster had committed
    in_flight = _query(url, "SELECT count(*) FROM django_q_ormq WHERE lock > now()")[0]

    started = time.monotonic()
    cluster = Cluster(stack, "qcluster-2.log")
    try:
        def finished():
            p = _progress(url, letter_ids, matter_ids)
            return p["archives_done"] == len(letter_ids) and p["matters_swept"] == len(matter_ids) and _queued(url) == 0

        _wait(finished, Q_TIMEOUT + 60 + 180, 1)
        recovered_in = round(time.monotonic() - started, 1)
    finally:
        cluster.stop()

    r = stack.call("worker_results", letter_ids=letter_ids, matter_ids=matter_ids)
    report(
        "worker_kill",
        requests=len(letter_ids) + 1,
        errors=r["archives"] - r["archives_valid"],
        duplicates=r["letters_archived_twice"] + r["letters_logged_twice"] + r["matter_events_twice"]
        + r["notifications_twice"],
        lost=(len(letter_ids) - r["archives_valid"]) + (len(matter_ids) - r["matters_overdue_once"]),
        at_kill=at_kill,
        tasks_locked_at_kill=in_flight,
        recovered_in_s=recovered_in,
        **r,
    )
    # The kill landed mid-way: some archives finished, at least one was being made, and the
    # sweep (queued first, one transaction per batch) had not finished.
    assert at_kill["archives_done"] < len(letter_ids) and at_kill["archives_rendering"] >= 1
    assert r["archive_attempts"] > len(letter_ids)  # the interrupted archive was made again
    assert at_kill["matters_swept"] < len(matter_ids)
    # Nothing lost: every letter has its one archive, with a file whose hash matches.
    assert r["archives"] == r["archives_valid"] == len(letter_ids)
    assert r["archive_log_entries"] == len(letter_ids) and r["letters_logged_twice"] == 0
    assert r["partial_files_left"] == 0
    # Every due matter was swept once: one 逾期 event, two escalations, each notification once.
    assert r["matters_swept"] == len(matter_ids)
    assert r["matters_overdue_once"] == len(matter_ids)
    assert r["matter_events_twice"] == 0 and r["escalations"] == 2 * len(matter_ids)
    assert r["notifications_twice"] == 0 and r["matters_notified"] == len(matter_ids)
