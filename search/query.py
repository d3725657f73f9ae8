"""Reads from the index: a person's search, filtered by their permissions inside the query.

Matching: every term of the query must occur in the title or the body exactly (a substring of
the normalised text). On PostgreSQL the term's bigrams are looked up first in the GIN index of
``tsv`` so only candidate rows are checked; SQLite checks every row (fine at the embedded
default's size). When no row has every term exactly, the terms are cut into words with jieba
and the company dictionary (小区停水 -> 小区 + 停水) and the search runs again; the page says so.

Relevance: 10 x occurrences in the title + occurrences in the body + 5 per term that is a
whole jieba word of the document; ties newest first. The same SQL on both databases.

Counting stops at COUNT_LIMIT: one query fetches the ids of at most COUNT_LIMIT + 1 matches
(no ordering, so the database stops as soon as it has them); below the limit those ids are
all the matches, and the page is ordered from them without matching again. Above it the
page is the newest matches (ranking thousands of rows for a word found nearly everywhere
costs a pass over all of them) and the page says "1000 条以上" and that it sorted by time.
"""

from __future__ import annotations

import datetime as dt
import operator
from dataclasses import dataclass, field
from functools import reduce

from django.db import connection
from django.db.models import BooleanField, Case, F, Func, Q, QuerySet, Value, When
from django.db.models.functions import Length, Replace
from django.utils import timezone
from django.utils.safestring import SafeString

from portal.models.people import descendant_ids

from .models import SearchEntry
from .providers import SearchProvider, providers
from .text import ParsedQuery, highlight, parse_query, relaxed_terms, segmenter, snippet, term_tokens

PER_PAGE = 20
# Counting stops here ("1000+"): an exact count of a word found in most documents costs a pass
# over all of them, and nobody pages through a thousand results.
COUNT_LIMIT = 1000
ORDERS = ("relevance", "newest")


def visible_entries(user) -> QuerySet:
    """Index rows of objects the person may open: each provider's ``visible_to`` as a subquery."""
    conditions = [
        Q(kind=kind, object_id__in=provider.visible_to(user).order_by().values("pk"))
        for kind, provider in providers().items()
    ]
    if not conditions or not getattr(user, "is_authenticated", False):
        return SearchEntry.objects.none()
    return SearchEntry.objects.filter(reduce(operator.or_, conditions))


def tsquery(terms: list[str]) -> str:
    """PostgreSQL tsquery text requiring every bigram of every term ('' when none constrains).

    Written as tsquery input, not through to_tsquery(): no parser, no locale, the lexemes are
    compared as they are (the tokens hold only letters and digits, so quoting is enough).
    """
    tokens = dict.fromkeys(token for term in terms for token in term_tokens(term))
    return " & ".join(f"'{token}'" for token in tokens)


class TokensMatch(Func):
    """PostgreSQL: the row's ``tsv`` (migration 0002: the tokens as a stored tsvector with a GIN
    index) contains every lexeme of a tsquery.

    Django does not know the column, so it is reached through ``grams``, whose compiled name
    carries whatever alias Django gives the table (it renames it inside subqueries).
    """

    output_field = BooleanField()

    def __init__(self, query: str):
        super().__init__(F("grams"), Value(query))

    def as_sql(self, compiler, connection, **extra_context):
        column_sql, _ = compiler.compile(self.source_expressions[0])
        query_sql, query_params = compiler.compile(self.source_expressions[1])
        quoted = connection.ops.quote_name("grams")
        if not column_sql.endswith(quoted):
            raise ValueError(f"unexpected column SQL {column_sql!r}")
        tsv = column_sql[: -len(quoted)] + connection.ops.quote_name("tsv")
        return f"{tsv} @@ CAST({query_sql} AS tsquery)", [*query_params]


def match(qs: QuerySet, terms: list[str]) -> QuerySet:
    for term in terms:
        qs = qs.filter(Q(norm_title__contains=term) | Q(norm_body__contains=term))
    if connection.vendor == "postgresql":
        text = tsquery(terms)
        if text:
            qs = qs.filter(TokensMatch(text))
    return qs


def occurrences(column: str, term: str):
    return (Length(column) - Length(Replace(column, Value(term), Value("")))) / Value(len(term))


def score(terms: list[str]):
    parts = []
    for term in terms:
        parts.append(occurrences("norm_title", term) * Value(10))
        parts.append(occurrences("norm_body", term))
        parts.append(Case(When(words__contains=f" {term} ", then=Value(5)), default=Value(0)))
    return reduce(operator.add, parts, Value(0)) if parts else Value(0)


@dataclass
class Hit:
    entry: SearchEntry
    kind_label: str
    tag: str
    title: SafeString
    snippet: SafeString

    @property
    def url(self):
        return self.entry.url

    @property
    def date(self):
        return self.entry.date

    @property
    def department(self):
        return self.entry.department


@dataclass
class Facet:
    kind: str
    label: str
    count: int | None  # None: some, more than the count limit allows counting
    selected: bool
    url: str = ""


@dataclass
class SearchResults:
    query: ParsedQuery
    terms: list[str] = field(default_factory=list)
    relaxed: bool = False
    total: int = 0
    capped: bool = False  # more than COUNT_LIMIT: shown as "1000+"
    order_fallback: bool = False  # relevance asked, newest given (too many matches to rank)
    hits: list[Hit] = field(default_factory=list)
    facets: list[Facet] = field(default_factory=list)
    page: int = 1
    num_pages: int = 1
    order: str = "relevance"

    @property
    def has_previous(self):
        return self.page > 1

    @property
    def has_next(self):
        return self.page < self.num_pages


def search(
    user,
    raw_query: str,
    *,
    kinds: list[str] | None = None,
    department_id: int | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    order: str = "relevance",
    page: int = 1,
    per_page: int = PER_PAGE,
    relax: bool = True,
) -> SearchResults:
    """One page of what ``user`` may see matching ``raw_query``, with per-type counts.

    ``relax``: when nothing contains every term exactly, try again with jieba's words of the
    terms (the results say so through ``relaxed``).
    """
    # NUL and other control characters can never match indexed text, and PostgreSQL refuses NUL.
    parsed = parse_query("".join(ch for ch in raw_query if ch >= " " or ch in "\t"))
    registered = providers()
    kinds = [k for k in (kinds or []) if k in registered]
    order = order if order in ORDERS else "relevance"
    results = SearchResults(query=parsed, order=order)
    if not parsed:
        return results
    segmenter.sync()

    base = visible_entries(user)
    if department_id:
        base = base.filter(department_id__in=descendant_ids([department_id]))
    tz = timezone.get_current_timezone()
    if date_from:
        base = base.filter(date__gte=dt.datetime.combine(date_from, dt.time.min, tzinfo=tz))
    if date_to:
        base = base.filter(date__lt=dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz))

    terms = parsed.terms
    sample = _sample(match(base, terms))
    if not sample and relax:
        words = relaxed_terms(terms)
        if words != terms:
            sample = _sample(match(base, words))
            if sample:
                terms, results.relaxed = words, True
    results.terms = terms
    over_limit = len(sample) > COUNT_LIMIT
    counts: dict[str, int] = {}
    for _, kind in sample:
        counts[kind] = counts.get(kind, 0) + 1
    # Past the limit the sample says which types occur but not how often: no per-type counts.
    results.facets = [
        Facet(kind, p.label, None if over_limit and counts.get(kind) else counts.get(kind, 0), kind in kinds)
        for kind, p in registered.items()
    ]
    matches = match(base, terms)
    if kinds:
        matches = matches.filter(kind__in=kinds)
    if not over_limit:
        ids = [pk for pk, kind in sample if not kinds or kind in kinds]
        total = len(ids)
    else:
        ids = None
        total = _count(matches) if kinds else COUNT_LIMIT + 1
    results.capped = total > COUNT_LIMIT
    results.total = min(total, COUNT_LIMIT)
    if not results.total:
        return results

    results.num_pages = max(1, -(-results.total // per_page))
    results.page = min(max(1, page), results.num_pages)
    # Below the limit every match is known: order just those rows, no second pass of matching.
    qs = SearchEntry.objects.filter(pk__in=ids) if ids is not None else matches
    if order == "relevance" and results.capped:
        # Ranking more than COUNT_LIMIT matches of a word found nearly everywhere means
        # scoring every one of them; the newest come first instead, and the page says so.
        results.order = order = "newest"
        results.order_fallback = True
    if order == "newest":
        qs = qs.order_by("-date", "-pk")
    else:
        qs = qs.annotate(score=score(terms)).order_by("-score", "-date", "-pk")
    offset = (results.page - 1) * per_page
    rows = qs.select_related("department").defer("words", "grams", "norm_title", "norm_body")
    end = min(offset + per_page, COUNT_LIMIT)  # never past what the page count promised
    results.hits = [_hit(entry, registered[entry.kind], terms) for entry in rows[offset:end]]
    return results


def _sample(matches: QuerySet) -> list[tuple[int, str]]:
    """(pk, kind) of the matches, at most ``COUNT_LIMIT + 1`` of them (no order: stops early)."""
    return list(matches.order_by().values_list("pk", "kind")[: COUNT_LIMIT + 1])


def _count(qs: QuerySet) -> int:
    """How many rows match, counting no further than one past ``COUNT_LIMIT``."""
    return qs.order_by().values("pk")[: COUNT_LIMIT + 1].count()


def _hit(entry: SearchEntry, provider: SearchProvider, terms: list[str]) -> Hit:
    return Hit(
        entry=entry,
        kind_label=provider.label,
        tag=provider.tag,
        title=highlight(entry.title, terms),
        snippet=snippet(entry.body, terms),
    )
