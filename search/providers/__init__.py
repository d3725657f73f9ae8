"""What can be searched: one provider per kind of content, found through a Wagtail hook.

An app makes its content searchable by registering a function that returns providers::

    @hooks.register("portal_search_providers")
    def notice_search():
        return [NoticeSearchProvider()]

A provider names its model, builds the index document for one object (or returns None when
the object must not be in the index, e.g. an unpublished page), and answers
``visible_to(user)``: a queryset of the objects that person may open. Results are filtered
by that queryset inside the database query, so nothing outside it is ever fetched, shown or
counted. The index holds no permissions: a change of audience takes effect at once.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass

from django.db import models
from django.utils.html import strip_tags

from wagtail import hooks
from wagtail.models import Page, PageViewRestriction

HOOK = "portal_search_providers"


@dataclass
class SearchDocument:
    title: str
    body: str
    date: dt.datetime
    url: str
    department_id: int | None = None


class SearchProvider:
    kind: str = ""
    label: str = ""
    model: type[models.Model] | None = None
    order: int = 100
    tag: str = ""  # CSS class of the result's type tag (tag-blue, tag-red, ...)

    def get_queryset(self) -> models.QuerySet:
        """Every object that belongs in the index (for rebuilds)."""
        return self.model._default_manager.all()

    def get_object(self, pk):
        return self.get_queryset().filter(pk=pk).first()

    def build_document(self, obj) -> SearchDocument | None:
        raise NotImplementedError

    def visible_to(self, user) -> models.QuerySet:
        raise NotImplementedError

    def handles(self, obj) -> bool:
        return isinstance(obj, self.model)

    def dependencies(self) -> list[tuple[type[models.Model], object]]:
        """Other models whose changes alter this provider's documents: ``(model, fn)`` with
        ``fn(instance) -> pk`` of the object to re-index (e.g. a matter's history entries)."""
        return []

    # Pages are indexed when published and removed when unpublished; other models on save.
    is_page = False

    def __repr__(self):
        return f"<{type(self).__name__} {self.kind}>"


class PageSearchProvider(SearchProvider):
    """A provider for a page type: live pages only, Wagtail's view restrictions respected."""

    is_page = True

    def get_queryset(self):
        return self.model.objects.live().select_related("locale")

    def get_object(self, pk):
        return self.model.objects.filter(pk=pk).first()

    def build_document(self, page) -> SearchDocument | None:
        if not page.live:
            return None
        return SearchDocument(
            title=page.title,
            body=page_text(page),
            date=page.last_published_at or page.first_published_at or page.latest_revision_created_at,
            url=page.url or "",
            department_id=None,
        )

    def visible_to(self, user):
        return restrict_pages(self.model.objects.live(), user)


def restrict_pages(pages: models.QuerySet, user) -> models.QuerySet:
    """Pages without a view restriction the person fails (password-protected ones are left out:
    a search result must not lead to a page the person cannot open)."""
    failing = []
    for restriction in PageViewRestriction.objects.select_related("page").prefetch_related("groups"):
        if restriction.restriction_type == PageViewRestriction.LOGIN and user.is_authenticated:
            continue
        if restriction.restriction_type == PageViewRestriction.GROUPS and (
            user.is_superuser or set(restriction.groups.all()) & set(user.groups.all())
        ):
            continue
        failing.append(restriction.page)
    for page in failing:
        pages = pages.exclude(path__startswith=page.path)
    return pages


def page_text(page) -> str:
    """The readable text of a page's own content fields (rich text, streams, text), in order."""
    from wagtail.fields import RichTextField, StreamField

    parts = [getattr(page, "search_description", "") or ""]
    for f in type(page)._meta.get_fields():
        if not getattr(f, "concrete", False) or f.model is Page or getattr(f, "choices", None):
            continue
        value = getattr(page, f.attname, None)
        if not value:
            continue
        if isinstance(f, StreamField):
            parts.extend(str(t) for t in f.get_searchable_content(value))
        elif isinstance(f, RichTextField):
            parts.append(strip_tags(value))
        elif isinstance(f, models.TextField | models.CharField) and not isinstance(
            f, models.SlugField | models.URLField | models.EmailField
        ):
            parts.append(str(value))
    return "\n".join(p for p in parts if p)


class GenericPageProvider(PageSearchProvider):
    """普通页面: every live page whose type no other provider claims."""

    kind = "page"
    label = "页面"
    model = Page
    order = 90
    tag = ""

    def claimed(self):
        return [p.model for p in providers().values() if p.is_page and p is not self and p.model is not Page]

    def get_queryset(self):
        return Page.objects.live().filter(depth__gt=1).not_type(*self.claimed()).specific()

    def get_object(self, pk):
        page = Page.objects.filter(pk=pk).first()
        return page.specific if page else None

    def handles(self, obj):
        return isinstance(obj, Page) and not isinstance(obj, tuple(self.claimed()))

    def build_document(self, page):
        if page.depth <= 1:
            return None
        return super().build_document(page)

    def visible_to(self, user):
        return restrict_pages(Page.objects.live().filter(depth__gt=1).not_type(*self.claimed()), user)


_registry_lock = threading.Lock()
_registry: dict[str, SearchProvider] | None = None


def providers() -> dict[str, SearchProvider]:
    """Registered providers by kind, in display order (built once per process)."""
    global _registry
    if _registry is None:
        with _registry_lock:
            if _registry is None:
                found: list[SearchProvider] = []
                for fn in hooks.get_hooks(HOOK):
                    result = fn()
                    found.extend(result if isinstance(result, list | tuple) else [result])
                found.sort(key=lambda p: (p.order, p.kind))
                _registry = {p.kind: p for p in found}
    return _registry


def reset_registry() -> None:
    """Forget the providers (tests that register their own)."""
    global _registry, _dependency_cache
    with _registry_lock:
        _registry = None
        _dependency_cache = None


_dependency_cache: list | None = None


def dependents(instance) -> list[tuple[SearchProvider, object]]:
    """(provider, pk) of indexed objects whose document depends on ``instance``."""
    global _dependency_cache
    if _dependency_cache is None:
        _dependency_cache = [(p, model, fn) for p in providers().values() for model, fn in p.dependencies()]
    return [(p, fn(instance)) for p, model, fn in _dependency_cache if isinstance(instance, model)]


def provider_for(obj) -> SearchProvider | None:
    for provider in providers().values():
        if provider.handles(obj):
            return provider
    return None
