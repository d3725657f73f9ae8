"""Demo data for search: company terms in the dictionary, and an index of the demo content."""

from __future__ import annotations

from .indexing import index_missing
from .models import SearchTerm

DEMO_TERMS = [
    ("阳光花园", SearchTerm.Category.PROPERTY, "示范项目"),
    ("滨江大厦", SearchTerm.Category.PROPERTY, "示范项目"),
    ("阳光花园管理处", SearchTerm.Category.ORGANISATION, ""),
    ("滨江大厦管理处", SearchTerm.Category.ORGANISATION, ""),
    ("二次供水", SearchTerm.Category.BUSINESS, ""),
    ("维保合同", SearchTerm.Category.BUSINESS, ""),
    ("地下车库", SearchTerm.Category.PLACE, ""),
    ("水泵房", SearchTerm.Category.PLACE, ""),
]


def seed_search(log=print) -> None:
    created = 0
    for word, category, note in DEMO_TERMS:
        _, made = SearchTerm.objects.get_or_create(word=word, defaults={"category": category, "note": note})
        created += made
    indexed = index_missing()
    log(f"搜索：新增词典词语 {created} 个，索引 {indexed} 条")


seed_search.order = 90  # after every content app (notifications are 50)
