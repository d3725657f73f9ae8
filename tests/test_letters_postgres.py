"""Letters on PostgreSQL: 发文字号 stay unique and gap-free when many people sign at once."""

from __future__ import annotations

import threading
import time

from django.db import transaction
from django.utils import timezone

import pytest

from letters.models import LetterPage
from letters.services import allocate_number
from letters.testing import act, draft_letter, submit
from tests.concurrency import run_in_threads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_allocation_is_unique_and_gap_free(org):
    dept, year = org.depts["engineering"], timezone.localdate().year
    numbers, lock = [], threading.Lock()

    def allocate(i):
        for attempt in range(5):
            try:
                with transaction.atomic():
                    seq, _ = allocate_number(dept, year)
                    time.sleep(0.005)  # hold the lock a while: others queue behind it
                    if i == 0 and attempt == 0:
                        raise RuntimeError("rolled back")  # its number is handed out again
            except RuntimeError:
                continue
            with lock:
                numbers.append(seq)

    run_in_threads(8, allocate)
    assert sorted(numbers) == list(range(1, 8 * 5))  # 39 committed, no gap, no duplicate


def test_concurrent_signing_through_the_workflow(org):
    letters = []
    for _ in range(6):
        letter = draft_letter(org)
        submit(letter, letter.owner)
        act(letter, org.users["eng_head"], "approve")
        letters.append(letter.pk)
    leader = org.users["leader"]

    def sign(i):
        act(LetterPage.objects.get(pk=letters[i]), leader, "approve")

    run_in_threads(len(letters), sign)
    seqs = sorted(LetterPage.objects.filter(pk__in=letters).values_list("number_seq", flat=True))
    assert seqs == list(range(1, len(letters) + 1))
    assert LetterPage.objects.filter(pk__in=letters, live=True, signer=leader).count() == len(letters)
