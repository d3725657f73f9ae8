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


@pytest.fixture
def org(db):
    """The demo organisation: ``org.users[username]`` and ``org.depts[code]``."""
    from portal.demo import seed_organisation
    from portal.models import Department, User

    seed_organisation(log=lambda *a: None)
    return SimpleNamespace(
        users={u.username: u for u in User.objects.select_related("department")},
        depts={d.code: d for d in Department.objects.all()},
    )


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
