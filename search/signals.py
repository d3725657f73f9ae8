"""Keeps the index current: content changes enqueue a django-q2 task after the commit.

Pages are indexed on publish and removed on unpublish; other models on save. Deletion removes
the row at once, in the deleting transaction. A dictionary change re-segments the rows whose
text contains the changed words. Nothing here holds logic beyond deciding what to enqueue.
"""

from __future__ import annotations

from functools import partial

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save

from wagtail.models import Page
from wagtail.signals import page_published, page_unpublished, post_page_move

from .models import DictionaryState, SearchTerm


def enqueue(func: str, *args) -> None:
    from django_q.tasks import async_task

    transaction.on_commit(partial(async_task, func, *args, task_name=f"{func}:{args[0] if args else ''}"[:100]))


def _provider(instance):
    from .providers import provider_for, providers

    if not providers():
        return None
    return provider_for(instance)


def on_save(sender, instance, raw=False, **kwargs):
    if raw:
        return
    provider = _provider(instance)
    if provider is not None and not provider.is_page:
        enqueue("search.tasks.index_object", provider.kind, instance.pk)
    _refresh_dependents(instance)


def _refresh_dependents(instance):
    from .providers import dependents

    for provider, pk in dependents(instance):
        if pk is not None:
            enqueue("search.tasks.index_object", provider.kind, pk)


def on_page_change(sender, instance, **kwargs):
    provider = _provider(instance.specific_deferred if type(instance) is Page else instance)
    if provider is not None:
        enqueue("search.tasks.index_object", provider.kind, instance.pk)


def on_page_move(sender, instance, **kwargs):
    # The URL of the page and of everything below it changed: refresh the indexed ones.
    from .models import SearchEntry

    pages = Page.objects.filter(path__startswith=instance.path).values_list("pk", flat=True)
    for kind, pk in SearchEntry.objects.filter(object_id__in=pages).values_list("kind", "object_id"):
        enqueue("search.tasks.index_object", kind, pk)


def on_delete(sender, instance, **kwargs):
    from .indexing import remove_object
    from .models import SearchEntry

    if sender is SearchEntry or sender._meta.app_label in {"search", "contenttypes", "sessions", "django_q"}:
        return
    if isinstance(instance, Page) or _provider(instance) is not None:
        remove_object(instance)
    _refresh_dependents(instance)


def remember_old_word(sender, instance, **kwargs):
    instance._previous_word = (
        SearchTerm.objects.filter(pk=instance.pk).values_list("word", flat=True).first() if instance.pk else None
    )


def on_term_change(sender, instance, **kwargs):
    DictionaryState.bump()
    words = [w for w in {instance.word, getattr(instance, "_previous_word", None)} if w]
    enqueue("search.tasks.resegment", words)


def connect() -> None:
    post_save.connect(on_save, dispatch_uid="search.on_save")
    post_delete.connect(on_delete, dispatch_uid="search.on_delete")
    page_published.connect(on_page_change, dispatch_uid="search.page_published")
    page_unpublished.connect(on_page_change, dispatch_uid="search.page_unpublished")
    post_page_move.connect(on_page_move, dispatch_uid="search.post_page_move")
    pre_save.connect(remember_old_word, sender=SearchTerm, dispatch_uid="search.term_pre_save")
    post_save.connect(on_term_change, sender=SearchTerm, dispatch_uid="search.term_saved")
    post_delete.connect(on_term_change, sender=SearchTerm, dispatch_uid="search.term_deleted")
