"""The front-end search page."""

from __future__ import annotations

from django.shortcuts import render
from django.utils.translation import gettext as _

from .forms import SearchForm
from .query import search


def _url(params, **changes) -> str:
    params = params.copy()
    params.pop("page", None)
    for key, value in changes.items():
        params.pop(key, None)
        if value:
            params[key] = value
    return "?" + params.urlencode()


def search_view(request):
    form = SearchForm(request.GET or None)
    results = None
    selected_types = []
    if form.is_bound:
        form.is_valid()  # partial: a bad filter is reported and dropped, the query still runs
        query = form.cleaned_data.get("q") or request.GET.get("q", "")[:200]
        filters = form.filters()
        selected_types = filters["kinds"]
        results = search(request.user, query, **filters) if query.strip() else None
        if results is not None and not results.query:
            results = None  # only symbols: ask for text
        if results is not None:
            for facet in results.facets:
                facet.url = _url(request.GET, type=facet.kind)
    return render(
        request,
        "search/search.html",
        {
            "title": _("搜索"),
            "form": form,
            "results": results,
            "selected_types": selected_types,
            "all_types_url": _url(request.GET, type=None),
            "query_string": _url(request.GET)[1:],
            "has_filters": any(request.GET.get(k) for k in ("type", "department", "date_from", "date_to")),
        },
    )
