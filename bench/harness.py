"""Shared plumbing for benchmarks: Django on a scratch database, timing, one JSON line per figure.

Every figure is reported with a baseline measured in the same run, because these machines are
noisy: ``{"name", "value", "unit", "baseline", "ratio"}`` with ratio = value / baseline.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django(*, database_url: str | None = None) -> str:
    """Configure Django on a fresh scratch database and migrate it. Returns the database URL.

    PostgreSQL benchmarks pass ``BENCH_PG_URL`` (default: a scratch database on 127.0.0.1)."""
    sys.path.insert(0, str(ROOT))
    if database_url is None:
        tmp = tempfile.mkdtemp(prefix="portal-bench-")
        database_url = f"sqlite:///{tmp}/bench.sqlite3"
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.test")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    return database_url


def fresh_postgres_url(name: str) -> str | None:
    """Drop and create a scratch PostgreSQL database; None when PostgreSQL is not reachable."""
    try:
        import psycopg

        base = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
        with psycopg.connect(base, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        return base.rsplit("/", 1)[0] + "/" + name
    except Exception as exc:  # noqa: BLE001 - report and skip
        print(json.dumps({"name": name, "skipped": f"PostgreSQL not reachable: {exc}"}), flush=True)
        return None


def timed(fn, *, repeat: int = 5) -> float:
    """Median wall time of ``fn()`` over ``repeat`` runs, in seconds."""
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def emit(name: str, value: float, unit: str, baseline: float, **extra) -> dict:
    row = {
        "name": name,
        "value": round(value, 6),
        "unit": unit,
        "baseline": round(baseline, 6),
        "ratio": round(value / baseline, 3) if baseline else None,
        **extra,
    }
    print(json.dumps(row, ensure_ascii=False), flush=True)
    return row
