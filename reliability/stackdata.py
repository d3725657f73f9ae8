"""Data set-up and checks run *inside* the stack's environment (``manage.py shell -c``).

The test process never imports Django against the stack's database; it calls these functions
through ``Stack.call(name, **kwargs)``, which prints their result as one JSON line.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from types import SimpleNamespace

RESULT = "STACKDATA "


def emit(value) -> None:
    print(RESULT + json.dumps(value, ensure_ascii=False, default=str), flush=True)


def _org():
    from portal.models import Department, User

    return SimpleNamespace(
        users={u.username: u for u in User.objects.select_related("department")},
        depts={d.code: d for d in Department.objects.all()},
    )


# -- 1. the worker killed mid-way ----------------------------------------------------------------


def worker_matters(matters: int = 400) -> dict:
    """``matters`` routed matters whose reminders, breach and escalations are all due."""
    from django.db import transaction
    from django.utils import timezone

    from matters import lifecycle, services
    from matters.routing import Decision
    from matters.rule_models import DeadlinePolicy

    org = _org()
    policy = DeadlinePolicy.objects.create(
        name="可靠性测试时限", accept_within=1, progress_every=2, progress_every_urgent=1, resolve_normal=1,
        resolve_important=3, resolve_major=3, confirm_within=3, remind_before_hours=4,
        escalate_leader_after=1, escalate_gm_after=3,
    )
    when = timezone.now() - dt.timedelta(days=20)
    decision = Decision(None, "可靠性测试", 1, org.depts["engineering"].pk, [], False, False, "normal", policy.pk, ["测试"])
    matter_ids = []
    for i in range(matters):
        with transaction.atomic():
            m = services.open_matter(title=f"可靠性巡检{i}", submitter=org.users["site_staff"], when=when,
                                     reference=f"RLW-{i:05d}")
            lifecycle.route_matter(m, decision=decision, when=when)
        matter_ids.append(m.pk)
    return {"matter_ids": matter_ids}


def worker_letters(letters: int = 8) -> dict:
    """Queue the reminder sweep, then sign ``letters`` letters (each queues its archive)."""
    from django_q.tasks import async_task

    from letters.testing import draft_letter, sign

    org = _org()
    async_task("matters.tasks.sweep_reminders", task_name="reliability-sweep")
    letter_ids = []
    for i in range(letters):
        letter = draft_letter(org, slug=f"reliability-letter-{i}", title=f"关于可靠性测试第{i + 1}号的函")
        letter_ids.append(sign(org, letter).pk)  # on commit: letters.tasks.archive_letter queued
    return {"letter_ids": letter_ids}


def worker_progress(letter_ids: list[int], matter_ids: list[int]) -> dict:
    from letters.models import LetterArchive
    from matters.models import Matter

    archives = LetterArchive.objects.filter(letter_id__in=letter_ids)
    return {
        "archives_done": archives.filter(status="done").count(),
        "archives_started": archives.exclude(status="done").count(),
        "matters_swept": Matter.objects.filter(pk__in=matter_ids, swept_until__isnull=False).count(),
    }


def worker_results(letter_ids: list[int], matter_ids: list[int]) -> dict:
    from pathlib import Path

    from wagtail.models import ModelLogEntry, PageLogEntry

    from letters.archive import verify_archive
    from letters.models import LetterArchive
    from matters.models import Matter, MatterEvent
    from portal.notifications.models import Notification

    archives = list(LetterArchive.objects.filter(letter_id__in=letter_ids))
    per_letter = Counter(a.letter_id for a in archives)
    logs = Counter(
        PageLogEntry.objects.filter(page_id__in=letter_ids, action="letters.archive").values_list("page_id", flat=True)
    )
    logs.update(
        int(pk) for pk in ModelLogEntry.objects.filter(action="letters.archive").values_list("object_id", flat=True)
        if str(pk).isdigit() and int(pk) in letter_ids
    )
    partials = 0
    for a in archives:
        if a.file:
            partials += len(list(Path(a.file.path).parent.glob(f".{Path(a.file.path).name}.*.partial")))
    events = Counter(
        MatterEvent.objects.filter(matter_id__in=matter_ids, kind__in=["overdue", "escalated"])
        .values_list("matter_id", "kind", "data__level")
    )
    keys = Counter(
        Notification.objects.filter(event_key__startswith="matter:", channel="inbox")
        .values_list("recipient_id", "event_key")
    )
    key_re = re.compile(r"^matter:(\d+):")
    matters_notified = {int(key_re.match(k).group(1)) for _r, k in keys if key_re.match(k)}
    return {
        "letters": len(letter_ids),
        "archives": len(archives),
        "archives_valid": sum(1 for a in archives if verify_archive(a)),
        "archive_attempts": sum(a.attempts for a in archives),
        "letters_archived_twice": sum(1 for n in per_letter.values() if n > 1),
        "archive_log_entries": sum(logs.values()),
        "letters_logged_twice": sum(1 for n in logs.values() if n > 1),
        "partial_files_left": partials,
        "matters": len(matter_ids),
        "matters_swept": Matter.objects.filter(pk__in=matter_ids, swept_until__isnull=False).count(),
        "matters_overdue_once": sum(1 for (_m, kind, _lvl), n in events.items() if kind == "overdue" and n == 1),
        "matter_events_twice": sum(1 for n in events.values() if n > 1),
        "escalations": sum(n for (_m, kind, _lvl), n in events.items() if kind == "escalated"),
        "notifications": sum(keys.values()),
        "notifications_twice": sum(1 for n in keys.values() if n > 1),
        "matters_notified": len(matters_notified & set(matter_ids)),
    }


# -- 2. the storm --------------------------------------------------------------------------------


def storm_setup(users: int = 300) -> dict:
    """A form without a rate limit, a notice for everyone that needs 已阅, and many people."""
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from forms.testing import make_form_page
    from notices.models import NoticePage
    from portal.models import Department, User

    page = make_form_page(
        title="可靠性测试报修单", slug="reliability-form", prefix="RLT", rate_limit_count=0,
        fields=[
            {"label": "标题", "field_type": "singleline"},
            {"label": "描述", "field_type": "multiline", "required": False},
            {"label": "紧急程度", "field_type": "urgency"},
        ],
    )
    notice = NoticePage.objects.live().filter(audience_everyone=True, requires_confirmation=True).order_by("pk").first()
    if notice is None:
        raise RuntimeError("the demo has no notice for everyone that needs 已阅")
    if notice.expire_at and notice.expire_at < timezone.now():
        raise RuntimeError("the demo notice for everyone has expired")
    dept = Department.objects.get(code="service")
    password = make_password("demo1234")
    User.objects.bulk_create(
        [User(username=f"storm{i:04d}", name=f"压测{i:04d}", department=dept, password=password) for i in range(users)],
        ignore_conflicts=True,
    )
    return {"form_url": page.url, "sessions": sessions_for([f"storm{i:04d}" for i in range(users)]), "form_id": page.pk, "notice_id": notice.pk,
            "revision": notice.version_revision_id, "version": notice.version,
            }


def sessions_for(usernames: list[str]) -> dict:
    """Signed-in sessions made directly (a login costs a password hash; the login form is
    fuzzed and journey-tested elsewhere)."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    from portal.models import User

    engine = import_module(settings.SESSION_ENGINE)
    out = {}
    for user in User.objects.filter(username__in=usernames):
        store = engine.SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        out[user.username] = store.session_key
    return out


def storm_results(form_id: int, notice_id: int, version: int, tokens: list[str], references: list[str],
                  confirmed: list[str]) -> dict:
    """Compare what the clients were told with the rows (a token is stored as its nonce)."""
    from django.core import signing

    from forms.fields import TOKEN_SALT
    from forms.models import Submission
    from notices.models import NoticeReceipt

    subs = list(Submission.objects.filter(page_id=form_id).select_related("matter").values_list(
        "form_token", "matter__reference"))
    refs = [r for _t, r in subs]
    seqs = sorted(int(r.rsplit("-", 1)[1]) for r in refs)
    receipts = Counter(
        NoticeReceipt.objects.filter(notice_id=notice_id, version=version, user__username__startswith="storm")
        .values_list("user__username", flat=True)
    )
    stored_tokens = {t for t, _r in subs}
    nonces = {str(signing.loads(t, salt=TOKEN_SALT)["n"]) for t in tokens}
    return {
        "submissions": len(subs),
        "duplicate_references": len(refs) - len(set(refs)),
        "reference_gaps": (seqs[-1] - len(seqs)) if seqs else 0,
        "references_start_at_one": (seqs[0] == 1) if seqs else True,
        "duplicate_tokens": len(subs) - len(stored_tokens),
        "lost_submissions": len(nonces - stored_tokens),
        "lost_references": len(set(references) - set(refs)),
        "receipts": sum(receipts.values()),
        "duplicate_receipts": sum(1 for n in receipts.values() if n > 1),
        "lost_receipts": len(set(confirmed) - set(receipts)),
    }


# -- 3. hostile input ----------------------------------------------------------------------------


def fuzz_targets() -> dict:
    """Ids and URLs of the things the fuzzer posts to, and who may act on them."""
    from forms.models import FormPage
    from letters.models import LetterPage
    from matters.models import Matter
    from notices.models import NoticePage

    forms = [{"url": p.url, "id": p.pk} for p in FormPage.objects.live().order_by("pk")]
    notice = NoticePage.objects.live().filter(audience_everyone=True).order_by("pk").first()
    matter = Matter.objects.filter(lead_department__code="engineering").order_by("pk").first()
    letters = list(LetterPage.objects.filter(live=True).order_by("pk").values_list("pk", flat=True))
    return {"forms": forms, "notice_id": notice.pk if notice else 0,
            "matter_id": matter.pk if matter else 0, "letter_ids": letters}


def row_counts() -> dict:
    from forms.models import Submission
    from letters.models import LetterReceipt
    from matters.models import Attachment, Matter, MatterEvent
    from notices.models import NoticeReceipt
    from portal.models import User

    return {
        "submissions": Submission.objects.count(),
        "matters": Matter.objects.count(),
        "matter_events": MatterEvent.objects.count(),
        "matter_attachments": Attachment.objects.count(),
        "notice_receipts": NoticeReceipt.objects.count(),
        "letter_receipts_signed": LetterReceipt.objects.filter(received_at__isnull=False).count(),
        "users": User.objects.count(),
    }
