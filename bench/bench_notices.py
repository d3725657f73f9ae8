"""Notices: the read storm through gunicorn, statistics against raw SQL, the list's query count.

1. Read storm: 2,000 distinct people confirm one notice through gunicorn on PostgreSQL with
   50 concurrent clients. Baseline: a bare Django view that inserts one row, through the same
   gunicorn, middleware, session login and CSRF check. Throughput ratio, p50 and p99 latency,
   and the receipt count (must be exactly 2,000).
2. Statistics of a notice whose audience is 10,000 people in 60 departments: the statistics and
   their rendering vs. a raw SQL GROUP BY over the same receipts; the number of queries.
3. A person's notice list with 5,000 visible notices vs. with 10: query count and time.

Run by ``make bench``; gunicorn imports this same module (``BENCH_NOTICES_WSGI=1``) to serve the
portal's URLs plus the baseline view.
"""

from __future__ import annotations

import http.client
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PEOPLE = int(os.environ.get("BENCH_NOTICES_PEOPLE", "2000"))
CLIENTS = int(os.environ.get("BENCH_NOTICES_CLIENTS", "50"))
AUDIENCE = 10_000
DEPARTMENTS = 60
LIST_NOTICES = 5_000
WORKERS = int(os.environ.get("BENCH_NOTICES_WORKERS", "4"))


# --- the WSGI side, when gunicorn imports this module ------------------------------------------

if os.environ.get("BENCH_NOTICES_WSGI") == "1":
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.test")
    import django

    django.setup()
    from django.conf import settings
    from django.http import JsonResponse
    from django.urls import path

    from portal.urls import urlpatterns as portal_urlpatterns

    def baseline_insert(request):
        """The baseline: one row inserted through the same stack (login, CSRF, middleware)."""
        from notices.models import NoticeView

        NoticeView.objects.create(notice_id=int(os.environ["BENCH_BASELINE_NOTICE"]), user_id=request.user.pk, version=1)
        return JsonResponse({"ok": True})

    urlpatterns = [path("bench/insert/", baseline_insert), *portal_urlpatterns]
    settings.ROOT_URLCONF = __name__

    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()


# --- the driver ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_people():
    """60 departments under the company and 10,000 people (no password hashing: sessions are
    created directly)."""
    from notices.models import NoticeSettings
    from portal.demo import seed_organisation
    from portal.models import Department, User

    seed_organisation(log=lambda *a: None)
    # Announcing each benchmark notice to 10,000 people would only measure the notifications app.
    NoticeSettings.objects.update_or_create(pk=NoticeSettings.load().pk, defaults={"notify_on_publish": False})
    company = Department.objects.get(code="company")
    Department.objects.bulk_create(
        [Department(name=f"压测部门{i:02d}", code=f"bench-{i:02d}", parent=company, sort_order=200 + i) for i in range(DEPARTMENTS)]
    )
    depts = list(Department.objects.filter(code__startswith="bench-").order_by("sort_order"))
    User.objects.bulk_create(
        [
            User(
                username=f"bench{i:05d}",
                name=f"压测员工{i:05d}",
                employee_no=f"B{i:05d}",
                department=depts[i % DEPARTMENTS],
                password="!",
            )
            for i in range(AUDIENCE)
        ],
        batch_size=2000,
    )
    return depts, list(User.objects.filter(username__startswith="bench").order_by("username"))


def make_sessions(users) -> list[tuple[str, str]]:
    """A logged-in session and a CSRF secret per person, as a browser would hold them."""
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    store = SessionStore()
    expire = timezone.now() + timezone.timedelta(days=1)
    rows, cookies = [], []
    for user in users:
        key = secrets.token_hex(16)
        data = {
            "_auth_user_id": str(user.pk),
            "_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
            "_auth_user_hash": user.get_session_auth_hash(),
        }
        rows.append(Session(session_key=key, session_data=store.encode(data), expire_date=expire))
        cookies.append((key, secrets.token_hex(16)))
    Session.objects.bulk_create(rows, batch_size=1000)
    return cookies


def start_gunicorn(database_url: str, baseline_notice: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {
        **os.environ,
        "BENCH_NOTICES_WSGI": "1",
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "portal.settings.test",
        "DB_CONN_MAX_AGE": "60",
        "BENCH_BASELINE_NOTICE": str(baseline_notice),
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.Popen(
        [str(gunicorn), "bench_notices:application", "--chdir", str(HERE), "-w", str(WORKERS),
         "-b", f"127.0.0.1:{port}", "--backlog", "512", "--log-level", "warning"],
        env=env,
        cwd=str(HERE),
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/accounts/login/")
            conn.getresponse().read()
            return proc, port
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("gunicorn did not start")


def storm(port: int, path_for, cookies, body_for) -> tuple[float, list[float], list[int]]:
    """``len(cookies)`` POSTs from CLIENTS threads; returns (seconds, latencies, statuses)."""
    latencies: list[float] = []
    statuses: list[int] = []
    lock = threading.Lock()
    jobs = list(enumerate(cookies))
    chunks = [jobs[i::CLIENTS] for i in range(CLIENTS)]
    barrier = threading.Barrier(CLIENTS + 1)

    def client(chunk):
        mine_lat, mine_st = [], []
        barrier.wait()
        for index, (session, csrf) in chunk:
            body = body_for(index)
            headers = {
                "Cookie": f"sessionid={session}; csrftoken={csrf}",
                "X-CSRFToken": csrf,
                "Accept": "application/json",
                "Content-Type": "application/x-www-form-urlencoded",
            }
            start = time.perf_counter()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            conn.request("POST", path_for(index), body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            conn.close()
            mine_lat.append(time.perf_counter() - start)
            mine_st.append(response.status)
        with lock:
            latencies.extend(mine_lat)
            statuses.extend(mine_st)

    threads = [threading.Thread(target=client, args=(c,)) for c in chunks]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - start, latencies, statuses


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def read_storm(database_url: str, users) -> None:
    from harness import emit

    from notices.factories import make_notice
    from notices.models import NoticeReceipt, NoticeView

    target = make_notice(title="压测：请确认已阅", requires_confirmation=True)
    baseline_notice = make_notice(title="压测：基线")
    warm_notice = make_notice(title="压测：预热")
    people = users[:PEOPLE]
    cookies = make_sessions(people)
    warm = make_sessions(users[PEOPLE : PEOPLE + 200])
    proc, port = start_gunicorn(database_url, baseline_notice.pk)
    try:
        # Warm every worker (imports, URL resolvers, connections) on a third notice.
        storm(port, lambda i: f"/notices/confirm/{warm_notice.pk}/", warm, lambda i: "revision=0")
        base_time, base_lat, base_status = storm(port, lambda i: "/bench/insert/", cookies, lambda i: "x=1")
        body = f"revision={target.version_revision_id}"
        time_taken, lat, status = storm(port, lambda i: f"/notices/confirm/{target.pk}/", cookies, lambda i: body)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    receipts = NoticeReceipt.objects.filter(notice=target).count()
    inserted = NoticeView.objects.filter(notice=baseline_notice).count()
    ok = sum(1 for s in status if s == 200)
    base_ok = sum(1 for s in base_status if s == 200)
    throughput, base_throughput = len(cookies) / time_taken, len(cookies) / base_time
    emit(
        "notices.read_storm_throughput",
        throughput,
        "req/s",
        base_throughput,
        people=len(people),
        clients=CLIENTS,
        gunicorn_workers=WORKERS,
        receipts=receipts,
        ok_responses=ok,
        baseline_rows=inserted,
        baseline_ok=base_ok,
        exactly_one_receipt_each=receipts == len(people),
    )
    emit("notices.read_storm_p50", percentile(lat, 50) * 1000, "ms", percentile(base_lat, 50) * 1000)
    emit("notices.read_storm_p99", percentile(lat, 99) * 1000, "ms", percentile(base_lat, 99) * 1000)
    if receipts != len(people) or ok != len(people):
        raise SystemExit(f"read storm: {receipts} receipts and {ok} OK responses for {len(people)} people")


def statistics_benchmark(depts, users) -> None:
    from django.db import connection
    from django.template.loader import render_to_string
    from django.test import RequestFactory
    from django.test.utils import CaptureQueriesContext

    from harness import emit, timed

    from notices.factories import make_notice
    from notices.models import NoticePage, NoticeReceipt, NoticeView
    from notices.views import statistics_context

    notice = make_notice(title="压测：六十个部门", departments=depts, requires_confirmation=True)
    NoticeReceipt.objects.bulk_create(
        [NoticeReceipt(notice=notice, user=u, version=1, revision_id=notice.version_revision_id) for u in users[::5] + users[1::5] + users[2::5]],
        batch_size=2000,
    )
    NoticeView.objects.bulk_create([NoticeView(notice=notice, user=u, version=1) for u in users[3::5]], batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    admin = type(users[0]).objects.get(username="admin")
    request = RequestFactory().get(f"/notices/statistics/{notice.pk}/")
    request.user = admin

    def render_statistics():
        fresh = NoticePage.objects.select_related("issuing_department", "category").defer_streamfields().get(pk=notice.pk)
        context = statistics_context(request, fresh)
        return render_to_string("notices/includes/statistics_body.html", context, request=request)

    dept_ids = [d.pk for d in depts]
    sql = """
        SELECT u.department_id, COUNT(*) AS total, COUNT(r.id) AS confirmed,
               COUNT(v.id) FILTER (WHERE r.id IS NULL) AS viewed_only
        FROM portal_user u
        LEFT JOIN notices_noticereceipt r ON r.user_id = u.id AND r.notice_id = %s AND r.version = %s
        LEFT JOIN notices_noticeview v ON v.user_id = u.id AND v.notice_id = %s AND v.version = %s
        WHERE u.is_active AND u.department_id = ANY(%s)
        GROUP BY u.department_id
    """

    def raw_group_by():
        with connection.cursor() as cursor:
            cursor.execute(sql, [notice.pk, 1, notice.pk, 1, dept_ids])
            return cursor.fetchall()

    html = render_statistics()
    assert "压测员工" in html
    assert sum(row[2] for row in raw_group_by()) == 6000
    with CaptureQueriesContext(connection) as ctx:
        render_statistics()
    value = timed(render_statistics, repeat=7)
    baseline = timed(raw_group_by, repeat=7)
    emit(
        "notices.statistics_10000_people_60_departments",
        value * 1000,
        "ms",
        baseline * 1000,
        queries=len(ctx.captured_queries),
        audience=AUDIENCE,
        departments=DEPARTMENTS,
    )


def list_benchmark(depts, users) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from harness import emit, timed

    from notices.factories import bulk_notices
    from notices.models import NoticePage

    person = users[-1]
    client = Client()
    client.force_login(person)

    def measure():
        client.get("/notices/")
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/notices/").status_code == 200
        return len(ctx.captured_queries), timed(lambda: client.get("/notices/"), repeat=5)

    existing = NoticePage.objects.current().visible_to(person).count()
    bulk_notices(10 - existing if existing < 10 else 0)
    few_q, few_t = measure()
    bulk_notices(LIST_NOTICES - 10)
    visible = NoticePage.objects.current().visible_to(person).count()
    many_q, many_t = measure()
    emit("notices.list_queries_5000_vs_10", many_q, "queries", few_q, visible=visible)
    emit("notices.list_time_5000_vs_10", many_t * 1000, "ms", few_t * 1000, visible=visible)


def main():
    from harness import fresh_postgres_url, setup_django

    started = time.perf_counter()
    url = fresh_postgres_url("bench_notices")
    if url is None:
        return
    setup_django(database_url=url)
    depts, users = make_people()
    read_storm(url, users)
    statistics_benchmark(depts, users)
    list_benchmark(depts, users)
    print(f'{{"name": "notices.bench_seconds", "value": {time.perf_counter() - started:.1f}}}', flush=True)


if __name__ == "__main__":
    main()
