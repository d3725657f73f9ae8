"""Random and hostile input (hypothesis) on every form and endpoint of the running stack: no
server error, and nothing stored that should not be.

Every request goes to the real gunicorn over HTTP. Where the input can never be valid (a forged
form token, someone outside the department, a revision that is not the notice's), the row
counts must not move; elsewhere (the department head acting on its own matter) the input may be
accepted, and only the absence of server errors is checked.
"""

from __future__ import annotations

import os
import re
from collections import Counter

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import report

EXAMPLES = int(os.environ.get("RELIABILITY_FUZZ_EXAMPLES", "100"))
# Locally every run explores new examples; under CI (CI set) the examples are derived from the
# test itself, so a landing is judged on a fixed, reproducible set (a failure there is replayable).
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=bool(os.environ.get("CI")), database=None,
                suppress_health_check=list(HealthCheck))

HOSTILE = [
    "' OR 1=1 --", "'; DROP TABLE matters_matter; --", "<script>alert(1)</script>", '"><img src=x onerror=alert(1)>',
    "{{ 7*7 }}", "{% debug %}", "${jndi:ldap://x/a}", "../../../../etc/passwd", "%00", "\x00", "a\x00b",
    "\u202e\u200b\ufeff", "𠜎𠜱𠝹" * 50, "测" * 5000, "A" * 20000, "-1", "0", "99999999999999999999", "1e309",
    "NaN", "true", "[]", "{}", "null", "2026-02-30", "9999-12-31", "０１２", "\r\n\r\nSet-Cookie: x=1", " ",
]
hostile_text = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=200), st.text(alphabet="0123456789-", max_size=12))
NAME_RE = re.compile(r'name="([^"]+)"')
CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

statuses: Counter = Counter()
server_errors: list[str] = []


def check(label: str, response) -> None:
    statuses[response.status_code] += 1
    if response.status_code >= 500:
        server_errors.append(f"{label} -> {response.status_code}")
    assert response.status_code < 500, f"{label} -> {response.status_code}: {response.text[:300]}"


def session_of(server: str, key: str) -> requests.Session:
    http = requests.Session()
    http.cookies.set("sessionid", key)
    http.get(server + "/inbox/", timeout=60)  # the CSRF cookie
    return http


def post(http, url, data=None, files=None):
    headers = {"X-CSRFToken": http.cookies.get("csrftoken", ""), "Referer": url}
    return http.post(url, data=data, files=files, headers=headers, timeout=60, allow_redirects=False)


@pytest.fixture(scope="module")
def fuzz(stack, server):
    targets = stack.call("fuzz_targets")
    sessions = stack.call("sessions_for", usernames=["site_staff", "cs_staff", "eng_head", "nodept", "coordinator"])
    return targets, {name: session_of(server, key) for name, key in sessions.items()}


def test_hostile_input_gives_no_server_error_and_stores_nothing_it_should_not(stack, server, fuzz):
    targets, who = fuzz
    before = stack.call("row_counts")
    fields_of = {}
    for form in targets["forms"]:
        page = who["site_staff"].get(server + form["url"], timeout=60)
        check("form page", page)
        fields_of[form["url"]] = sorted(
            {n for n in NAME_RE.findall(page.text) if n not in ("csrfmiddlewaretoken", "form_token", "q")}
        )
    assert fields_of, "the demo has no forms"

    # Form submission with forged one-time tokens: never stored.
    @FUZZ
    @given(form=st.sampled_from(sorted(fields_of)), data=st.data(), token=hostile_text)
    def submit(form, data, token):
        values = {name: data.draw(hostile_text) for name in fields_of[form]}
        values.update(data.draw(st.dictionaries(hostile_text, hostile_text, max_size=3)))
        values["form_token"] = token
        files = None
        if data.draw(st.booleans()):
            key = data.draw(st.sampled_from(fields_of[form]))
            files = {key: (data.draw(hostile_text)[:80] or "x", data.draw(st.binary(max_size=2000)))}
        check(f"submit {form}", post(who["site_staff"], server + form, values, files))

    # 已阅 on any notice id with a revision that is not the notice's.
    @FUZZ
    @given(pk=st.one_of(st.just(targets["notice_id"]), st.integers(0, 2**31 - 1)), revision=hostile_text)
    def confirm(pk, revision):
        check("confirm", post(who["eng_head"], f"{server}/notices/confirm/{pk}/", {"revision": revision + "x"}))

    # Someone outside the department comments on and acts on an engineering matter; someone
    # without a department signs for letters: refused, nothing stored.
    actions = ["accept", "progress", "resolve", "confirm", "return", "supplement", "cooperate", "pause", "resume",
               "reassign", "escalate", "archive", "route"]

    @FUZZ
    @given(action=st.one_of(st.sampled_from(actions), st.from_regex(r"[a-z-]{1,20}", fullmatch=True)),
           fields=st.dictionaries(st.one_of(st.sampled_from(["text", "handler", "department", "reason",
                                                              "commitment_date"]), hostile_text), hostile_text,
                                  max_size=4))
    def outsider_matter(action, fields):
        m = targets["matter_id"]
        data = {f"{action}-{k}": v for k, v in fields.items()} | fields
        check("matter act", post(who["cs_staff"], f"{server}/matters/{m}/act/{action}/", data))
        check("matter comment", post(who["cs_staff"], f"{server}/matters/{m}/comment/", fields))

    @FUZZ
    @given(pk=st.one_of(st.sampled_from(targets["letter_ids"] or [1]), st.integers(0, 2**31 - 1)),
           fields=st.dictionaries(st.one_of(st.sampled_from(["department", "note", "text"]), hostile_text),
                                  hostile_text, max_size=3))
    def letter_receive(pk, fields):
        check("letter receive", post(who["nodept"], f"{server}/letters/{pk}/receive/", fields))
        check("letter reply", who["nodept"].get(f"{server}/letters/{pk}/reply/", timeout=60))

    # The department head may act on its own matter: any answer but a server error.
    @FUZZ
    @given(action=st.sampled_from(actions), fields=st.dictionaries(
        st.sampled_from(["text", "handler", "department", "reason", "commitment_date", "grade"]), hostile_text,
        max_size=4))
    def insider_matter(action, fields):
        m = targets["matter_id"]
        check("matter act (head)", post(who["eng_head"], f"{server}/matters/{m}/act/{action}/",
                                        {f"{action}-{k}": v for k, v in fields.items()}))

    @FUZZ
    @given(params=st.dictionaries(st.sampled_from(["q", "type", "department", "date_from", "date_to", "page",
                                                   "unread", "status", "tab", "category"]), hostile_text, max_size=5),
           where=st.sampled_from(["/search/", "/inbox/", "/matters/mine/", "/matters/ledger/", "/letters/",
                                  "/matters/todo/", "/notices/"]))
    def listings(params, where):
        check(f"GET {where}", who["coordinator"].get(server + where, params=params, timeout=60))

    @FUZZ
    @given(fields=st.dictionaries(hostile_text, st.one_of(hostile_text, st.just("on")), max_size=6))
    def preferences(fields):
        check("inbox preferences", post(who["eng_head"], f"{server}/inbox/preferences/", fields))

    anonymous = requests.Session()

    # Overlong usernames included: django-axes records failures in a varchar(255) column, which
    # once made the login page answer 500 (fixed by portal.auth.axes_username).
    @FUZZ
    @given(username=st.one_of(hostile_text, st.text(min_size=256, max_size=400)), password=hostile_text, nxt=hostile_text)
    def login(username, password, nxt):
        anonymous.get(server + "/accounts/login/", timeout=60)
        answer = post(anonymous, server + "/accounts/login/",
                      {"username": "fuzz" + username, "password": password, "next": nxt})
        check("login", answer)
        assert answer.status_code != 302 or "/accounts/login" in answer.headers.get("Location", "")

    submit()
    confirm()
    outsider_matter()
    letter_receive()
    rows_after_refused = stack.call("row_counts")
    insider_matter()
    listings()
    preferences()
    login()
    after = stack.call("row_counts")

    served = sum(statuses.values())
    report(
        "hostile_input",
        requests=served,
        errors=len(server_errors),
        duplicates=0,
        lost=0,
        examples_per_endpoint=EXAMPLES,
        statuses={str(k): v for k, v in sorted(statuses.items())},
        stored_when_refused={k: rows_after_refused[k] - before[k] for k in before if rows_after_refused[k] != before[k]},
        rows_changed_by_head={k: after[k] - rows_after_refused[k] for k in after if after[k] != rows_after_refused[k]},
    )
    assert not server_errors
    # Nothing stored from forged tokens, outsiders or wrong revisions.
    assert rows_after_refused == before
    assert after["users"] == before["users"]
