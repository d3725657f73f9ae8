"""Emergencies: from the report's POST to every notification enqueued, and the minute sweep.

Figures (JSON lines, each with a baseline measured in this run), on SQLite and on PostgreSQL:
- emergencies.report_post_to_enqueued[.pg]: POST /emergencies/report/ (numbering, milestones,
  paging the on-duty people and leaders: inbox rows written, email tasks queued on the ORM
  broker) until the response returns; the target is at most 1 s. Baseline: GET of the same form.
- emergencies.sweep_1000_open_1_due[.pg]: the minute sweep with 1,000 open events of which one
  is due; baseline the same sweep with only the due event. A ratio near 1 means the sweep reads
  only the due rows.
"""

from __future__ import annotations

import datetime as dt
import uuid

from harness import emit, fresh_postgres_url, setup_django, timed


def run(suffix: str) -> None:
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.utils import timezone

    from django_q.conf import Conf

    from emergencies.demo import seed_emergencies
    from emergencies.models import Emergency, EmergencyType
    from emergencies.sweep import sweep
    from portal.demo import seed_organisation
    from portal.models import Department, User

    setup_test_environment()
    Conf.SYNC = False  # queue the email tasks on the broker, as production does
    seed_organisation(log=lambda *a: None)
    seed_emergencies(lambda *a: None)
    Emergency.objects.all().delete()
    user = User.objects.get(username="site_staff")
    client = Client()
    client.force_login(user)
    et = EmergencyType.objects.get(name="电梯困人")
    site = Department.objects.get(code="sunshine")

    def post():
        response = client.post("/emergencies/report/", {
            "key": uuid.uuid4().hex, "event_type": et.pk, "site": site.pk, "location": "3 号楼 2 号电梯",
            "description": "2 人被困", "grade": "general"})
        assert response.status_code == 302, response.status_code

    def get():
        assert client.get("/emergencies/report/").status_code == 200

    post()  # warm up
    baseline = timed(get, repeat=10)
    value = timed(post, repeat=10)
    emit(f"emergencies.report_post_to_enqueued{suffix}", value, "s", baseline, target_max_s=1.0,
         paged=Emergency.objects.order_by("-pk").first().paged.count())

    Emergency.objects.all().delete()
    now = timezone.now()
    due = Emergency.objects.filter(pk__in=[]).first()
    from emergencies.services import report_emergency

    def make_due():
        nonlocal due
        due, _ = report_emergency(user, idempotency_key=uuid.uuid4().hex, event_type=et, site=site,
                                  location="x", when=now - dt.timedelta(minutes=31))

    make_due()
    baseline = timed(lambda: (make_due(), sweep(now)), repeat=5)
    template = Emergency.objects.first()
    Emergency.objects.bulk_create([
        Emergency(number=f"JJ-BENCH-{i}", idempotency_key=f"bench-{i}", event_type=et, site=site, location="x",
                  reporter=template.reporter, reported_at=now, next_due_at=now + dt.timedelta(hours=1))
        for i in range(1000)
    ])
    value = timed(lambda: (make_due(), sweep(now)), repeat=5)
    emit(f"emergencies.sweep_1000_open_1_due{suffix}", value, "s", baseline,
         open_events=Emergency.objects.open().count())


def main() -> None:
    import sys

    if "--pg" in sys.argv:
        setup_django(database_url=sys.argv[sys.argv.index("--pg") + 1])
        run(".pg")
        return
    setup_django()
    run("")
    url = fresh_postgres_url("portal_bench_emergencies")
    if url:
        import subprocess

        subprocess.run([sys.executable, __file__, "--pg", url], check=True)  # noqa: S603


if __name__ == "__main__":
    main()
