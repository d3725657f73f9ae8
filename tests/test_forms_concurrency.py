"""Reference numbers under real concurrency (PostgreSQL): 50 parallel submissions get 50
distinct, gap-free numbers; a double click sent twice at once creates one submission."""

from __future__ import annotations

import re

from django.test import Client

import pytest

from forms.models import Submission
from forms.testing import make_form_page, token_for
from matters.models import Matter
from tests.concurrency import run_in_threads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_fifty_concurrent_submissions_get_unique_gap_free_numbers(org):
    page = make_form_page(rate_limit_count=0)
    users = [org.users[name] for name in ("cs_staff", "cs_staff2", "eng_staff", "eng_staff2", "site_staff")]

    def submit(i):
        user = users[i % len(users)]
        client = Client()
        client.force_login(user)
        response = client.post(
            page.url, {"form_token": token_for(page, user), "biao_ti": f"并发{i}", "jin_ji_cheng_du": "low"}
        )
        assert response.status_code == 200
        return re.search(r"CS-\d{4}-\d{4}", response.content.decode()).group(0)

    shown = run_in_threads(50, submit)
    references = sorted(Matter.objects.values_list("reference", flat=True))
    year = references[0][3:7]
    assert references == [f"CS-{year}-{i:04d}" for i in range(1, 51)]
    assert sorted(shown) == references
    assert Submission.objects.count() == 50


def test_same_token_sent_ten_times_at_once_creates_one_submission(org):
    page = make_form_page(rate_limit_count=0)
    user = org.users["cs_staff"]
    token = token_for(page, user)

    def submit(i):
        client = Client()
        client.force_login(user)
        response = client.post(page.url, {"form_token": token, "biao_ti": "双击", "jin_ji_cheng_du": "low"})
        assert response.status_code == 200
        return re.search(r"CS-\d{4}-\d{4}", response.content.decode()).group(0)

    shown = run_in_threads(10, submit)
    assert Submission.objects.count() == 1
    assert set(shown) == {Matter.objects.get().reference}
    assert Matter.objects.get().reference.endswith("-0001")
