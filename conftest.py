"""Shared pytest fixtures: the demo organisation, the working calendar, logged-in clients."""

from __future__ import annotations

from types import SimpleNamespace

from django.db import connection

import pytest

from tests.browser import browser, journey  # noqa: F401 - fixtures for the browser journeys


def pytest_collection_modifyitems(config, items):
    # Decided from the configured database, before any test touches it.
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        skip = pytest.mark.skip(
            reason="needs PostgreSQL (row locks and real concurrency); set DATABASE_URL=postgres://... "
            "as .ci/run does"
        )
        for item in items:
            if "postgres" in item.keywords:
                item.add_marker(skip)


def _ensure_site_tree():
    """Recreate what the migrations put in the page tree (locale, root, home page, default site)
    when an earlier transactional test flushed it; clear the content-type cache first, since it
    may still hold ids of rows the flush removed."""
    from django.conf import settings
    from django.contrib.contenttypes.models import ContentType

    from wagtail.models import Locale, Page, Site

    from home.models import HomePage

    if HomePage.objects.exists():
        return
    ContentType.objects.clear_cache()
    locale = Locale.objects.order_by("pk").first() or Locale.objects.create(language_code=settings.LANGUAGE_CODE)
    root = Page.get_first_root_node() or Page.add_root(title="Root", slug="root", locale=locale)
    home = root.add_child(instance=HomePage(title="协调门户首页", slug="home", locale=locale))
    Site.objects.update_or_create(
        is_default_site=True,
        defaults={"hostname": "localhost", "port": 80, "root_page": home, "site_name": "跨部门沟通协调门户"},
    )


@pytest.fixture
def org(db):
    """The demo organisation: ``org.users[username]`` and ``org.depts[code]``."""
    from portal.demo import seed_organisation
    from portal.models import Department, User

    _ensure_site_tree()
    seed_organisation(log=lambda *a: None)
    return SimpleNamespace(
        users={u.username: u for u in User.objects.select_related("department")},
        depts={d.code: d for d in Department.objects.all()},
    )


@pytest.fixture
def home_page(db):
    """The site root, recreated if a transactional test flushed it."""
    from home.models import HomePage

    _ensure_site_tree()
    return HomePage.objects.get()


@pytest.fixture
def calendar_2026(db):
    """The official 2025 and 2026 calendars loaded into the WorkDay table."""
    from portal.services.calendar import import_workdays

    import_workdays(2025)
    import_workdays(2026)


@pytest.fixture
def login(client):
    """``login(user)`` returns a test client logged in as that user."""

    def _login(user):
        client.force_login(user)
        return client

    return _login


@pytest.fixture
def is_postgres():
    return connection.vendor == "postgresql"
