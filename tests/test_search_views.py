"""The search page, the navigation entry and the dictionary in the admin."""

from __future__ import annotations

from django.urls import reverse

from wagtail.models import Page

import pytest

from search.indexing import rebuild_index
from search.models import SearchEntry, SearchTerm

pytestmark = pytest.mark.django_db

URL = "/search/"


@pytest.fixture
def pages(org):
    home = Page.objects.get(depth=2)
    made = []
    for i, (title, body) in enumerate(
        [("停水通知", "阳光花园明日停水，请提前储水。"), ("<b>电梯</b>年检", "滨江大厦电梯年检 <script>x</script>")]
    ):
        page = Page(title=title, slug=f"p{i}", search_description=body, live=True)
        home.add_child(instance=page)
        made.append(page)
    rebuild_index()
    return made


def test_search_needs_a_login(client):
    response = client.get(URL, {"q": "停水"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_results_are_highlighted_and_escaped(login, org, pages):
    response = login(org.users["cs_staff"]).get(URL, {"q": "停水"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<mark>停水</mark>通知" in html
    assert "找到 1 条结果" in html
    other = login(org.users["cs_staff"]).get(URL, {"q": "电梯"}).content.decode()
    assert "&lt;b&gt;<mark>电梯</mark>&lt;/b&gt;年检" in other
    assert "<script>x</script>" not in other


def test_empty_and_symbol_only_queries_ask_for_text(login, org, pages):
    client = login(org.users["cs_staff"])
    assert "可搜索您有权查看的" in client.get(URL).content.decode()
    for q in ["", "   ", "！？…"]:
        html = client.get(URL, {"q": q}).content.decode()
        assert "请输入要搜索的文字" in html


def test_bad_filters_are_reported_and_the_rest_still_applies(login, org, pages):
    client = login(org.users["cs_staff"])
    response = client.get(
        URL, {"q": "停水", "date_from": "2026-13-45", "date_to": "not a date", "type": "nonsense",
              "department": "999999", "order": "sideways", "page": "-3"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<mark>停水</mark>" in html
    assert "有效日期" in html or "输入一个有效的日期" in html
    reversed_dates = client.get(URL, {"q": "停水", "date_from": "2026-05-01", "date_to": "2026-04-01"})
    assert "结束日期不能早于开始日期" in reversed_dates.content.decode()


def test_overlong_query_is_cut_and_the_person_told(login, org, pages):
    html = login(org.users["cs_staff"]).get(URL, {"q": "停水" * 150}).content.decode()
    assert "搜索词过长" in html or "请输入要搜索的文字" in html


def test_no_results_page_suggests_what_to_do(login, org, pages):
    html = login(org.users["cs_staff"]).get(URL, {"q": "不存在的词语组合"}).content.decode()
    assert "没有找到" in html and "换一个说法" in html


def test_type_facets_link_with_the_other_filters_kept(login, org, pages):
    html = login(org.users["cs_staff"]).get(URL, {"q": "停水", "order": "newest"}).content.decode()
    assert "type=page" in html and "order=newest" in html
    assert 'class="facet active"' in html  # 全部


def test_pagination_links_keep_the_query(login, org):
    home = Page.objects.get(depth=2)
    for i in range(25):
        home.add_child(instance=Page(title=f"保洁排班{i}", slug=f"b{i}", live=True))
    rebuild_index()
    html = login(org.users["cs_staff"]).get(URL, {"q": "保洁"}).content.decode()
    assert "第 1 / 2 页" in html and "q=%E4%BF%9D%E6%B4%81&amp;page=2" in html
    second = login(org.users["cs_staff"]).get(URL, {"q": "保洁", "page": "2"}).content.decode()
    assert "第 2 / 2 页" in second


def test_search_page_works_at_phone_width_markup(login, org, pages):
    html = login(org.users["cs_staff"]).get(URL, {"q": "停水"}).content.decode()
    assert 'name="viewport"' in html and "css/search.css" in html
    assert 'type="search"' in html and 'role="search"' in html


def test_navigation_has_the_search_link(login, org):
    html = login(org.users["cs_staff"]).get("/").content.decode()
    assert 'href="/search/"' in html and "搜索" in html


def test_nav_search_box_partial_renders(rf, org):
    from django.template.loader import render_to_string

    request = rf.get("/")
    request.user = org.users["cs_staff"]
    html = render_to_string("search/includes/nav_search_box.html", request=request)
    assert 'action="/search/"' in html and 'name="q"' in html


def test_query_count_does_not_grow_with_results(login, org):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    home = Page.objects.get(depth=2)
    client = login(org.users["cs_staff"])

    def queries_for(n):
        for i in range(n):
            home.add_child(instance=Page(title=f"门禁{n}-{i}", slug=f"m{n}-{i}", live=True))
        rebuild_index()
        client.get(URL, {"q": f"门禁{n}"})  # warm: jieba, dictionary version, session
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(URL, {"q": f"门禁{n}"})
        assert response.status_code == 200
        return len(ctx.captured_queries)

    assert queries_for(2) == queries_for(20)


def test_admin_edits_the_dictionary_and_rows_are_resegmented(login, org, pages, django_capture_on_commit_callbacks):
    admin = org.users.get("admin") or org.users["admin"]
    client = login(admin)
    listing = client.get("/admin/search_terms/")
    assert listing.status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/search_terms/new/", {"word": "阳光花园", "category": "property", "weight": "", "note": "项目"}
        )
    assert response.status_code == 302
    assert SearchTerm.objects.filter(word="阳光花园").exists()
    entry = SearchEntry.objects.get(object_id=pages[0].pk)
    assert " 阳光花园 " in entry.words
    duplicate = client.post("/admin/search_terms/new/", {"word": "阳光花园", "category": "property"})
    assert duplicate.status_code == 200 and SearchTerm.objects.count() == 1


def test_control_characters_in_the_query_are_ignored_not_a_server_error(login, org):
    client = login(org.users["cs_staff"])
    response = client.get(URL, {"q": "a\x00b\x07"})
    assert response.status_code == 200
