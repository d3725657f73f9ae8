"""Search over 20,000 documents on PostgreSQL: query p95 and indexing throughput.

Baselines measured in the same run over the same rows: for queries, a plain ``icontains``
scan of title and body (count + newest 20, no permission filter, so it is the cheaper side);
for indexing, inserting the same rows with no segmentation and no tokens.

Set BENCH_SEARCH_DOCS to change the corpus size (default 20000).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import statistics
import time

from harness import emit, fresh_postgres_url, setup_django

DOCS = int(os.environ.get("BENCH_SEARCH_DOCS", "20000"))
QUERIES = 200

WORDS = ["停水", "停电", "电梯", "消防", "保洁", "绿化", "门禁", "车位", "物业", "业主", "维修", "巡查", "安保", "管道", "供水", "漏水", "噪音", "投诉", "装修", "垃圾", "阳光花园", "滨江大厦", "二次供水", "消防演练", "电梯年检", "车辆管理", "垃圾分类", "外墙清洗", "绿化养护", "设备巡检", "应急预案", "客户回访", "工作联系单", "协作需求单", "问题反馈", "管理处", "工程部", "客服部", "秩序部", "环境部", "品质管理部", "综合管理部", "通知", "安排", "要求", "各部门", "请于", "之前", "完成", "落实", "检查", "整改", "报告", "会议", "纪要", "培训", "考核", "台账", "费用", "合同", "采购", "水泵房", "配电室", "监控室", "地下车库", "楼道", "屋面", "化粪池", "雨污管网", "空调机组", "照明", "标识", "公告栏", "快递柜"]
FILLER = "的了在和对为将于及等由从各本次请按照有关做好以下如期开展特此现就情况说明如下"


def make_corpus(n: int, seed: int = 20):
    rnd = random.Random(seed)
    weights = [1 / (i + 1) ** 0.9 for i in range(len(WORDS))]  # Zipf-like: a few words are everywhere
    docs = []
    for _ in range(n):
        words = rnd.choices(WORDS, weights=weights, k=rnd.randint(60, 140))
        body = []
        for w in words:
            body.append(w)
            if rnd.random() < 0.5:
                body.append("".join(rnd.choice(FILLER) for _ in range(rnd.randint(1, 3))))
            if rnd.random() < 0.08:
                body.append(rnd.choice("，。；、"))
        title = "关于" + "".join(rnd.sample(WORDS, 2)) + "的通知"
        docs.append((title, "".join(body)))
    return docs


def insert_pages(docs):
    """Bulk-insert plain pages under the home page (treebeard paths computed here: 20,000
    add_child() calls would take minutes and measure treebeard, not search)."""
    from django.contrib.contenttypes.models import ContentType
    from django.utils import timezone

    from wagtail.models import Locale, Page

    home = Page.objects.get(depth=2)
    ct = ContentType.objects.get_for_model(Page)
    locale = Locale.get_default()
    now = timezone.now()
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

    def step(i):
        out = ""
        for _ in range(4):
            i, r = divmod(i, 36)
            out = alphabet[r] + out
        return out

    last = Page.objects.filter(path__startswith=home.path, depth=home.depth + 1).order_by("-path").first()
    first = int(last.path[-4:], 36) + 1 if last else 1
    rows = []
    for i, (title, body) in enumerate(docs, start=first):
        rows.append(
            Page(
                title=title, draft_title=title, slug=f"doc-{i}", content_type=ct, locale=locale,
                path=home.path + step(i), depth=home.depth + 1, numchild=0, live=True,
                url_path=f"{home.url_path}doc-{i}/", search_description=body,
                first_published_at=now - dt.timedelta(minutes=i), last_published_at=now - dt.timedelta(minutes=i),
            )
        )
    Page.objects.bulk_create(rows, batch_size=2000)
    Page.objects.filter(pk=home.pk).update(numchild=home.numchild + len(rows))
    # A restricted subtree, so the permission subquery is not trivial.
    from wagtail.models import PageViewRestriction

    secret = Page.objects.filter(depth=home.depth + 1).order_by("path")[5]
    PageViewRestriction.objects.create(page=secret, restriction_type=PageViewRestriction.PASSWORD, password="x")


def main():
    url = fresh_postgres_url("bench_search")
    if url is None:
        return
    setup_django(database_url=url)
    from django.db import connection
    from django.db.models import Q
    from django.utils import timezone

    from portal.demo import seed_organisation
    from search.indexing import rebuild_index
    from search.models import SearchEntry
    from search.providers import providers
    from search.query import search
    from search.text import segmenter

    seed_organisation(log=lambda *a: None)
    from portal.models import User

    user = User.objects.get(username="cs_staff")
    docs = make_corpus(DOCS)
    insert_pages(docs)
    segmenter.sync()
    segmenter.words("预热")  # jieba's dictionary loads once per process; not part of the figure

    # Indexing throughput: the full rebuild (text, jieba words, bigrams, insert, tsvector, GIN).
    start = time.perf_counter()
    reports = rebuild_index(["page"])
    index_seconds = time.perf_counter() - start
    indexed = sum(r.indexed for r in reports)

    # Baseline: the same rows inserted with no segmentation and no tokens.
    provider = providers()["page"]
    pages = list(provider.get_queryset()[:indexed])
    start = time.perf_counter()
    plain = []
    for page in pages:
        doc = provider.build_document(page)
        plain.append(
            SearchEntry(
                content_type_id=page.content_type_id, object_id=page.pk + 10_000_000, kind="plain",
                title=doc.title, body=doc.body, norm_title=doc.title, norm_body=doc.body,
                date=doc.date or timezone.now(), url=doc.url,
            )
        )
    SearchEntry.objects.bulk_create(plain, batch_size=500)
    plain_seconds = time.perf_counter() - start
    SearchEntry.objects.filter(kind="plain").delete()
    emit(
        "search.index_docs_per_second", indexed / index_seconds, "docs/s", len(plain) / plain_seconds,
        docs=indexed, seconds=round(index_seconds, 2),
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # as autovacuum would have by now on a live system
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('search_searchentry'))")
        size = cursor.fetchone()[0]

    rnd = random.Random(7)
    queries = []
    for i in range(QUERIES):
        kind = i % 5
        if kind == 0:
            queries.append(rnd.choice(WORDS[:20]))  # common two-character words
        elif kind == 1:
            queries.append(rnd.choice([w for w in WORDS if len(w) == 4]))
        elif kind == 2:  # a random 2-4 character piece of a document: straddles jieba's words
            title, body = rnd.choice(docs)
            size_ = rnd.choice([2, 3, 4])
            pos = rnd.randrange(0, len(body) - size_)
            queries.append(body[pos : pos + size_])
        elif kind == 3:
            queries.append(" ".join(rnd.sample(WORDS, 2)))
        else:
            queries.append(rnd.choice(WORDS[20:]) + rnd.choice(["", "整改", "通知"]))

    def run_index(q, i):
        return search(user, q, order="newest" if i % 2 else "relevance")

    def run_scan(q, i):
        terms = q.split()
        qs = SearchEntry.objects.all()
        for t in terms:
            qs = qs.filter(Q(title__icontains=t) | Q(body__icontains=t))
        qs.count()
        list(qs.order_by("-date")[:20])

    def percentile(values, p):
        values = sorted(values)
        return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]

    for i, q in enumerate(queries[:10]):  # warm caches on both sides
        run_index(q, i)
        run_scan(q, i)
    index_times, scan_times, totals = [], [], []
    for i, q in enumerate(queries):
        start = time.perf_counter()
        result = run_index(q, i)
        index_times.append((time.perf_counter() - start) * 1000)
        totals.append(result.total)
        start = time.perf_counter()
        run_scan(q, i)
        scan_times.append((time.perf_counter() - start) * 1000)

    emit(
        "search.query_p95_%d_docs_postgres" % indexed, percentile(index_times, 95), "ms", percentile(scan_times, 95),
        p50=round(statistics.median(index_times), 1), max=round(max(index_times), 1),
        baseline_p50=round(statistics.median(scan_times), 1), queries=len(queries),
        median_hits=statistics.median(totals), index_size=size, budget_ms=200,
    )


if __name__ == "__main__":
    main()
