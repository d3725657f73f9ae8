"""Running a function in several threads at the same moment, for PostgreSQL concurrency tests."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connection


def run_in_threads(n: int, target: Callable[[int], object], *, timeout: float = 120) -> list:
    """Call ``target(i)`` for i in 0..n-1, each in its own thread released together by a barrier
    (so the calls really overlap), each closing its own database connection. Returns the results
    in order; fails the test if any call raised."""
    barrier = threading.Barrier(n)
    results: list = [None] * n
    errors: list[BaseException] = []

    def run(i):
        try:
            barrier.wait(timeout=30)
            results[i] = target(i)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    assert not any(t.is_alive() for t in threads), "a thread did not finish in time"
    assert errors == [], errors
    return results
