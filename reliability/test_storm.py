"""50 concurrent clients on the submit endpoint (a form page POST) and the 已阅 endpoint for
RELIABILITY_STORM_SECONDS (60 by default): no server error, no duplicate, no lost submission.

Each client walks through its own people: it opens the form (CSRF cookie and the one-time
form token), submits it, submits the same token again (a double click must land on the same
submission) and confirms the notice twice. Afterwards the database is compared with what the
clients were told: every submission a client saw accepted exists, reference numbers are unique
and gap-free, and there is one receipt per person per version.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections import Counter

import requests

from .conftest import report

CLIENTS = int(os.environ.get("RELIABILITY_STORM_CLIENTS", "50"))
SECONDS = float(os.environ.get("RELIABILITY_STORM_SECONDS", "60"))
PEOPLE = int(os.environ.get("RELIABILITY_STORM_PEOPLE", "1000"))

TOKEN_RE = re.compile(r'name="form_token" value="([^"]+)"')
CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
REFERENCE_RE = re.compile(r"data-reference>\s*([^<\s]+)\s*<")


def test_fifty_clients_submit_and_confirm_without_error_duplicate_or_loss(stack, server):
    setup = stack.call("storm_setup", users=PEOPLE)
    sessions = list(setup["sessions"].items())
    form_url = server + setup["form_url"]
    confirm_url = f"{server}/notices/confirm/{setup['notice_id']}/"
    statuses: Counter = Counter()
    accepted_tokens: list[str] = []
    accepted_refs: dict[str, str] = {}
    double_click_mismatch: list[str] = []
    confirmed: list[str] = []
    failures: list[str] = []
    stop = threading.Event()
    lock = threading.Lock()

    def note(kind: str, response):
        with lock:
            statuses[(kind, response.status_code)] += 1
            if response.status_code >= 500:
                failures.append(f"{kind} {response.status_code} {response.text[:200]}")

    def client(index: int):
        mine = sessions[index::CLIENTS]
        n = 0
        while not stop.is_set():
            username, key = mine[n % len(mine)]
            n += 1
            http = requests.Session()
            http.cookies.set("sessionid", key)
            try:
                page = http.get(form_url, timeout=60)
                note("form", page)
                token, csrf = TOKEN_RE.search(page.text), CSRF_RE.search(page.text)
                if page.status_code != 200 or not token or not csrf:
                    continue
                data = {"csrfmiddlewaretoken": csrf.group(1), "form_token": token.group(1),
                        "biao_ti": f"{username} 第{n}次报修", "miao_shu": "压力测试", "jin_ji_cheng_du": "medium"}
                first = http.post(form_url, data=data, timeout=60)
                note("submit", first)
                ref = REFERENCE_RE.search(first.text)
                if first.status_code == 200 and ref:
                    with lock:
                        accepted_tokens.append(token.group(1))
                        accepted_refs[token.group(1)] = ref.group(1)
                again = http.post(form_url, data=data, timeout=60)  # the double click
                note("resubmit", again)
                ref2 = REFERENCE_RE.search(again.text)
                if ref and (not ref2 or ref2.group(1) != ref.group(1)):
                    with lock:
                        double_click_mismatch.append(token.group(1))
                for _ in range(2):
                    answer = http.post(confirm_url, data={"revision": setup["revision"]},
                                       headers={"X-CSRFToken": http.cookies.get("csrftoken", ""),
                                                "Accept": "application/json",
                                                "X-Requested-With": "XMLHttpRequest"}, timeout=60)
                    note("confirm", answer)
                    if answer.status_code == 200 and answer.json().get("ok"):
                        with lock:
                            confirmed.append(username)
            except requests.RequestException as exc:
                with lock:
                    failures.append(f"connection {exc!r}"[:200])

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    started = time.monotonic()
    for t in threads:
        t.start()
    time.sleep(SECONDS)
    stop.set()
    for t in threads:
        t.join(timeout=120)
    elapsed = time.monotonic() - started

    r = stack.call("storm_results", form_id=setup["form_id"], notice_id=setup["notice_id"],
                   version=setup["version"], tokens=accepted_tokens,
                   references=list(accepted_refs.values()), confirmed=sorted(set(confirmed)))
    served = sum(statuses.values())
    by_kind = {f"{k}_{s}": n for (k, s), n in sorted(statuses.items())}
    report(
        "storm",
        clients=CLIENTS,
        seconds=round(elapsed, 1),
        requests=served,
        requests_per_s=round(served / elapsed, 1),
        errors=sum(n for (_k, s), n in statuses.items() if s >= 500) + len([f for f in failures if f.startswith("conn")]),
        duplicates=r["duplicate_references"] + r["duplicate_tokens"] + r["duplicate_receipts"] + len(double_click_mismatch),
        lost=r["lost_submissions"] + r["lost_references"] + r["lost_receipts"],
        accepted_by_clients=len(accepted_tokens),
        people_confirmed=len(set(confirmed)),
        **r,
        **by_kind,
    )
    assert not failures, failures[:5]
    assert accepted_tokens and confirmed
    assert {s for (_k, s) in statuses} <= {200}, by_kind
    assert r["submissions"] == len(accepted_tokens) == len(set(accepted_tokens))
    assert r["lost_submissions"] == 0 and r["lost_references"] == 0 and r["duplicate_tokens"] == 0 and not double_click_mismatch
    assert r["duplicate_references"] == 0 and r["reference_gaps"] == 0 and r["references_start_at_one"]
    assert r["duplicate_receipts"] == 0 and r["lost_receipts"] == 0
    assert r["receipts"] == len(set(confirmed))
