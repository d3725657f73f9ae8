"""Routing and sweep benchmarks.

* ``matters.route_200_rules``: deciding one submission against 200 rules on its form (the
  match is the last rule), per submission; baseline: the same submission against one rule.
* ``matters.sweep_10k_open_1k_due`` and ``matters.sweep_100k_open_1k_due``: the reminder and
  escalation sweep when 1,000 of 10,000 (then 100,000) open matters are due; baseline: the 10k
  run. Both on PostgreSQL when reachable (``BENCH_PG=0`` for SQLite). A ratio near 1 shows the sweep's time follows the due matters, not all open ones.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import emit, fresh_postgres_url, setup_django, timed  # noqa: E402


def build_org():
    from portal.demo import seed_organisation
    from portal.services.calendar import import_workdays

    seed_organisation(log=lambda *a: None)
    import_workdays(2026)


def bench_rules():
    from matters import routing

    fields = {
        "故障标题": ("singleline", "地下车库排水泵故障"),
        "紧急程度": ("urgency", "high"),
        "影响户数": ("number", "35"),
        "发生日期": ("date", "2026-11-20"),
        "需要支援的部门": ("departments", [{"id": 1, "name": "工程部"}]),
    }
    departments = {1: "工程部", 2: "客服部", 3: "阳光花园管理处"}
    inputs = routing.Inputs(1, "故障转呈单", fields, {"id": 3, "name": "阳光花园管理处"}, departments)

    def rule(i, conds, lead=1):
        return routing.CompiledRule(i, f"规则{i}", 1, 1, "all", conds, lead, "", [2], "", False, False, "normal", None, False)

    misses = [
        rule(i, [("紧急程度", "eq", "低", 0), ("影响户数", "gt", str(i), 0), ("故障标题", "contains", f"电梯{i}", 1),
                 ("需要支援的部门", "in", "客服部,秩序部", 1)])
        for i in range(199)
    ]
    hit = rule(999, [("紧急程度", "eq", "高", 0), ("发生日期", "between", "2026-11-01~2026-11-30", 0)])
    many = [*misses, hit]
    assert routing.decide(many, inputs).rule_id == 999
    n = 200

    def run_many():
        for _ in range(n):
            routing.decide(many, inputs)

    def run_one():
        for _ in range(n):
            routing.decide([hit], inputs)

    per_many = timed(run_many) / n
    per_one = timed(run_one) / n
    emit("matters.route_200_rules", per_many * 1000, "ms/submission", per_one * 1000, limit_ms=2.0)


def make_open(count: int, due: int):
    from django.utils import timezone

    from matters.models import Matter, MatterStatus
    from matters.rule_models import DeadlinePolicy
    from portal.models import Department, User

    Matter.objects.all().delete()
    policy = DeadlinePolicy.objects.get_or_create(name="标准时限")[0]
    user = User.objects.get(username="site_staff")
    eng = Department.objects.get(code="engineering")
    now = timezone.now()
    rows = []
    for i in range(count):
        is_due = i < due
        when = now - dt.timedelta(days=1)
        rows.append(
            Matter(
                reference=f"B-{count}-{i:06d}", title="bench", submitter=user, submitter_department_id=user.department_id,
                status=MatterStatus.ROUTED, lead_department=eng, grade="normal", policy=policy,
                routed_at=when, stage_started_at=when, created_at=when,
                accept_due=now - dt.timedelta(hours=1) if is_due else now + dt.timedelta(days=3),
                current_due_at=now - dt.timedelta(hours=1) if is_due else now + dt.timedelta(days=3),
                next_due_at=now - dt.timedelta(hours=1) if is_due else now + dt.timedelta(days=2),
                swept_until=now - dt.timedelta(minutes=90) if is_due else None,
            )
        )
    Matter.objects.bulk_create(rows, batch_size=5000)


def bench_sweep():
    from matters.sweep import sweep

    figures = {}
    for total in (10_000, 100_000):
        make_open(total, 1_000)
        start = time.perf_counter()
        result = sweep()
        figures[total] = time.perf_counter() - start
        assert result["matters"] == 1_000, result
    emit("matters.sweep_10k_open_1k_due", figures[10_000], "s", figures[10_000])
    emit("matters.sweep_100k_open_1k_due", figures[100_000], "s", figures[10_000])


def main():
    url = fresh_postgres_url("bench_matters") if os.environ.get("BENCH_PG", "1") == "1" else None
    setup_django(database_url=url)
    # Follow-up tasks (search indexing, e-mail delivery) are queued for the workers as in
    # production instead of running inline as the test settings' "sync" would make them.
    from django_q.conf import Conf

    Conf.SYNC = False
    build_org()
    bench_rules()
    bench_sweep()


if __name__ == "__main__":
    main()
