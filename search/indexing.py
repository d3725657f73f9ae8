"""Writes to the index: one object, a rebuild, and re-segmenting after a dictionary change.

Tasks (``search.tasks``) and the management command call these; they are idempotent.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from wagtail.models import Page

from .models import SearchEntry
from .providers import SearchDocument, SearchProvider, providers
from .text import clean_text, grams, normalise, segmenter


def _join(tokens) -> str:
    return " " + " ".join(tokens) + " " if tokens else ""


def entry_fields(doc: SearchDocument) -> dict:
    """The column values of an index row for a document (segmenter must be in sync)."""
    title = clean_text(doc.title, 500)
    body = clean_text(doc.body)
    norm_title, norm_body = normalise(title), normalise(body)
    text = norm_title + " " + norm_body
    return {
        "title": title,
        "body": body,
        "norm_title": norm_title,
        "norm_body": norm_body,
        "words": _join(segmenter.words(text)),
        "grams": _join(grams(text)),
        "department_id": doc.department_id,
        "date": doc.date or timezone.now(),
        "url": (doc.url or "")[:500],
    }


def _content_type(obj):
    # A page's row is keyed by its specific type, whichever class the instance in hand has.
    if isinstance(obj, Page):
        return ContentType.objects.get_for_id(obj.content_type_id)
    return ContentType.objects.get_for_model(obj, for_concrete_model=True)


def index_object(kind: str, pk) -> str:
    """Add, refresh or remove one object's row; returns what happened."""
    provider = providers().get(kind)
    if provider is None:
        return "unknown kind"
    obj = provider.get_object(pk)
    if obj is None:
        removed = SearchEntry.objects.filter(kind=kind, object_id=pk).delete()[0]
        return "removed" if removed else "absent"
    return index_instance(provider, obj)


def index_instance(provider: SearchProvider, obj) -> str:
    segmenter.sync()
    doc = provider.build_document(obj)
    if doc is None:
        removed = SearchEntry.objects.filter(kind=provider.kind, object_id=obj.pk).delete()[0]
        return "removed" if removed else "absent"
    fields = entry_fields(doc)
    _, created = SearchEntry.objects.update_or_create(
        content_type=_content_type(obj), object_id=obj.pk, defaults={"kind": provider.kind, **fields}
    )
    return "created" if created else "updated"


def remove_object(obj) -> int:
    """Drop an object's row (on delete: done at once, in the same transaction)."""
    return SearchEntry.objects.filter(object_id=obj.pk, content_type=_content_type(obj)).delete()[0]


@dataclass
class RebuildReport:
    kind: str
    indexed: int
    removed: int
    seconds: float


def rebuild_index(kinds: list[str] | None = None, *, batch_size: int = 500, log=None) -> list[RebuildReport]:
    """Rebuild the rows of each kind from its provider; rows of unknown kinds are dropped.

    Each kind is rebuilt in one transaction, so searches see the old rows or the new ones.
    """
    segmenter.sync()
    registered = providers()
    reports = []
    if kinds is None:
        stale = SearchEntry.objects.exclude(kind__in=list(registered)).delete()[0]
        if stale and log:
            log(f"removed {stale} rows of kinds no longer registered")
    for kind, provider in registered.items():
        if kinds is not None and kind not in kinds:
            continue
        start = time.perf_counter()
        with transaction.atomic():
            removed = SearchEntry.objects.filter(kind=kind).delete()[0]
            indexed = 0
            batch = []
            for obj in provider.get_queryset().iterator(chunk_size=batch_size):
                doc = provider.build_document(obj)
                if doc is None:
                    continue
                batch.append(
                    SearchEntry(content_type=_content_type(obj), object_id=obj.pk, kind=kind, **entry_fields(doc))
                )
                if len(batch) >= batch_size:
                    SearchEntry.objects.bulk_create(batch)
                    indexed += len(batch)
                    batch = []
            if batch:
                SearchEntry.objects.bulk_create(batch)
                indexed += len(batch)
        report = RebuildReport(kind, indexed, removed, time.perf_counter() - start)
        reports.append(report)
        if log:
            log(f"{kind}: {indexed} indexed in {report.seconds:.1f}s")
    return reports


def resegment(words: list[str]) -> int:
    """Recompute the jieba words of the rows whose text contains any of ``words``.

    Adding or removing a dictionary term can only change how text around that term is cut,
    so only those rows need new words; the bigrams never depend on the dictionary.
    """
    segmenter.sync(force=True)
    words = [normalise(w) for w in words if w]
    if not words:
        return 0
    match = Q()
    for word in words:
        match |= Q(norm_title__contains=word) | Q(norm_body__contains=word)
    changed = 0
    rows = SearchEntry.objects.filter(match).only("pk", "norm_title", "norm_body", "words")
    for row in rows.iterator(chunk_size=500):
        new = _join(segmenter.words(row.norm_title + " " + row.norm_body))
        if new != row.words:
            SearchEntry.objects.filter(pk=row.pk).update(words=new)
            changed += 1
    return changed


def index_missing(log=None) -> int:
    """Index every object of a kind whose row count differs from its provider's (rebuilding
    that kind); kinds already complete are left untouched. Used after loading demo data."""
    rebuilt = []
    for kind, provider in providers().items():
        expected = provider.get_queryset().count()
        if SearchEntry.objects.filter(kind=kind).count() != expected:
            rebuilt.append(kind)
    if not rebuilt:
        return 0
    return sum(r.indexed for r in rebuild_index(rebuilt, log=log))
