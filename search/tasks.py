"""Background tasks (django-q2): thin, idempotent, keyed by primary keys."""

from __future__ import annotations

from portal.tasks import exclusive

from . import indexing


def index_object(kind: str, pk) -> str:
    return indexing.index_object(kind, pk)


def resegment(words: list[str]) -> int:
    return indexing.resegment(words)


def rebuild_index(kinds: list[str] | None = None) -> str:
    """The nightly safety net: catches changes made without signals (bulk updates, raw SQL)."""
    with exclusive("search.rebuild_index") as acquired:
        if not acquired:
            return "skipped: another rebuild is running"
        reports = indexing.rebuild_index(kinds)
    return ", ".join(f"{r.kind}={r.indexed}" for r in reports)
