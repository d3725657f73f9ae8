"""Writes on letters: 签发 and numbering, 签收, reminders, 复函 drafts; and the letter page's context."""

from __future__ import annotations

import re
from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from wagtail.log_actions import log

from portal.models import Department, User
from portal.notifications.services import notify
from portal.workdays import WorkCalendar

from .models import (
    ArchiveStatus,
    LetterArchive,
    LetterIndexPage,
    LetterNumberCounter,
    LetterNumberPattern,
    LetterPage,
    LetterReceipt,
    ReceiptKind,
)
from .models.records import DEFAULT_PATTERN, format_number, signing_department_ids

# Notification kinds (declared through the portal_notification_kinds hook in wagtail_hooks.py).
KIND_REVIEW = "letter.review"
KIND_REJECTED = "letter.rejected"
KIND_SIGNED = "letter.signed"
KIND_RECEIVED = "letter.received"
KIND_REMIND = "letter.remind"
KIND_ACKNOWLEDGED = "letter.acknowledged"
KIND_REPLIED = "letter.replied"
KIND_ARCHIVE_FAILED = "letter.archive_failed"
KIND_REPLY_OVERDUE = "letter.reply_overdue"

# A manual 催签 is refused when the previous reminder is this recent.
MANUAL_REMINDER_GAP_SECONDS = 5 * 60


class LetterNotSigned(Exception):
    """The letter has not been through 签发: it cannot be sent or archived."""


# --- numbering -------------------------------------------------------------------------------------------


def number_pattern_for(department: Department) -> str:
    row = LetterNumberPattern.objects.filter(department=department).only("pattern").first()
    return row.pattern if row else DEFAULT_PATTERN


@transaction.atomic
def allocate_number(department: Department, year: int) -> tuple[int, str]:
    """The next 发文字号 of a department and year. Gap-free: the counter row is locked and bumped
    in the caller's transaction, so a rolled-back 签发 gives its number back."""
    LetterNumberCounter.objects.bulk_create(
        [LetterNumberCounter(department=department, year=year, last=0)], ignore_conflicts=True
    )
    counter = LetterNumberCounter.objects.select_for_update().get(department=department, year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    number = format_number(
        number_pattern_for(department), short=department.short_name or department.name, year=year, seq=counter.last
    )
    return counter.last, number


# --- 签发 -------------------------------------------------------------------------------------------------


def receiving_people(department_ids) -> list[User]:
    """Heads and liaisons of the given departments: the people who 签收."""
    return list(
        User.objects.filter(
            Q(headed_departments__in=department_ids) | Q(liaison_departments__in=department_ids), is_active=True
        ).distinct()
    )


def administrators() -> list[User]:
    return list(User.objects.filter(is_superuser=True, is_active=True))


@transaction.atomic
def issue_letter(letter: LetterPage, *, signer) -> LetterPage:
    """签发: number the letter, record the signer, send it to the receiving departments and queue
    its archive. Called when the letter's workflow is approved (after the page went live).
    Idempotent: a letter already signed is returned unchanged."""
    letter = LetterPage.objects.select_for_update().get(pk=letter.pk)
    if letter.signed_at is not None:
        return letter
    if not letter.live:
        raise LetterNotSigned(_("函件未经签发流程发布，不能发送。"))
    now = timezone.now()
    today = timezone.localdate(now)
    seq, number = allocate_number(letter.issuing_department, today.year)
    LetterPage.objects.filter(pk=letter.pk).update(
        doc_number=number, number_year=today.year, number_seq=seq, signer=signer, signed_at=now, written_date=today
    )
    letter.refresh_from_db()

    main_ids = list(letter.to_departments.values_list("pk", flat=True))
    copy_ids = [pk for pk in letter.cc_departments.values_list("pk", flat=True) if pk not in main_ids]
    LetterReceipt.objects.bulk_create(
        [LetterReceipt(letter=letter, department_id=pk, kind=ReceiptKind.MAIN, delivered_at=now) for pk in main_ids]
        + [LetterReceipt(letter=letter, department_id=pk, kind=ReceiptKind.COPY, delivered_at=now) for pk in copy_ids],
        ignore_conflicts=True,
    )
    LetterArchive.objects.get_or_create(letter=letter)
    log(instance=letter, action="letters.sign", user=signer, data={"number": number, "signer": str(signer)})

    url = letter.get_url() or ""
    notify(
        [letter.owner],
        kind=KIND_SIGNED,
        event_key=f"letter:{letter.pk}:signed",
        title=_("函件已签发：%(number)s %(title)s") % {"number": number, "title": letter.title},
        body=_("签发人：%(signer)s。函件已送达收文部门。") % {"signer": signer},
        url=url,
    )
    notify(
        receiving_people(main_ids + copy_ids),
        kind=KIND_RECEIVED,
        event_key=f"letter:{letter.pk}:received",
        title=_("收到函件，请签收：%(number)s %(title)s") % {"number": number, "title": letter.title},
        body=_("发文部门：%(dept)s。") % {"dept": letter.issuing_department.name},
        url=url,
    )
    if letter.in_reply_to_id:
        original = letter.in_reply_to
        notify(
            receiving_people([original.issuing_department_id]) + [original.owner],
            kind=KIND_REPLIED,
            event_key=f"letter:{original.pk}:reply:{letter.pk}",
            title=_("收到复函：%(number)s %(title)s") % {"number": number, "title": letter.title},
            body=_("答复原函 %(orig)s。") % {"orig": original.doc_number or original.title},
            url=url,
        )
    pk = letter.pk
    transaction.on_commit(lambda: queue_archive(pk))
    return letter


def queue_archive(letter_id: int) -> None:
    from django_q.tasks import async_task

    async_task("letters.tasks.archive_letter", letter_id, task_name=f"letter-archive-{letter_id}")


# --- 签收 -------------------------------------------------------------------------------------------------


@transaction.atomic
def receive_letter(letter: LetterPage, user, department: Department | None = None) -> LetterReceipt:
    """签收 for one of the user's departments. A second 签收 keeps the first time and person."""
    if not letter.is_signed:
        raise LetterNotSigned(_("函件尚未签发。"))
    allowed = signing_department_ids(user)
    qs = LetterReceipt.objects.select_for_update().filter(letter=letter, department_id__in=allowed)
    if department is not None:
        qs = qs.filter(department=department)
    receipts = list(qs.order_by("received_at", "kind", "pk"))
    if not receipts:
        raise PermissionDenied(_("只有收文部门的负责人或对接人可以签收。"))
    pending = [r for r in receipts if r.received_at is None]
    if not pending:
        return receipts[0]
    receipt = pending[0]
    receipt.received_at = timezone.now()
    receipt.received_by = user
    receipt.save(update_fields=["received_at", "received_by"])
    log(
        instance=letter,
        action="letters.receive",
        user=user,
        data={"department": receipt.department.name, "number": letter.doc_number},
    )
    notify(
        [letter.owner, *receiving_people([letter.issuing_department_id])],
        kind=KIND_ACKNOWLEDGED,
        event_key=f"letter:{letter.pk}:ack:{receipt.department_id}",
        title=_("%(dept)s 已签收 %(number)s") % {"dept": receipt.department.name, "number": letter.doc_number},
        body=_("签收人：%(user)s。") % {"user": user},
        url=letter.get_url() or "",
    )
    return receipt


# --- reminders --------------------------------------------------------------------------------------------


def _remind(receipt: LetterReceipt, now: datetime, event_suffix: str, by=None) -> int:
    letter = receipt.letter
    sent = notify(
        receiving_people([receipt.department_id]),
        kind=KIND_REMIND,
        event_key=f"letter:{letter.pk}:remind:{receipt.department_id}:{event_suffix}",
        title=_("请签收函件：%(number)s %(title)s") % {"number": letter.doc_number, "title": letter.title},
        body=_("%(dept)s 于 %(at)s 送达，尚未签收。")
        % {"dept": letter.issuing_department.name, "at": timezone.localtime(receipt.delivered_at).strftime("%Y-%m-%d %H:%M")},
        url=letter.get_url() or "",
    )
    LetterReceipt.objects.filter(pk=receipt.pk).update(reminders=receipt.reminders + 1, last_reminded_at=now)
    log(instance=letter, action="letters.remind", user=by, data={"department": receipt.department.name, "sent": sent})
    return sent


def remind_unreceived(now: datetime | None = None) -> int:
    """The scheduled sweep: a receipt still unsigned one working day after delivery is reminded,
    once per day. Returns the number of new notifications."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    calendar = WorkCalendar()
    if not calendar.is_workday(today):
        return 0
    total = 0
    receipts = (
        LetterReceipt.objects.pending()
        .filter(letter__live=True, letter__signed_at__isnull=False)
        .select_related("letter", "letter__issuing_department", "department")
    )
    for receipt in receipts:
        if calendar.add_working_days(receipt.delivered_at, 1).at > now:
            continue
        if receipt.last_reminded_at and timezone.localdate(receipt.last_reminded_at) >= today:
            continue
        with transaction.atomic():
            locked = LetterReceipt.objects.select_for_update(skip_locked=True).filter(pk=receipt.pk, received_at__isnull=True)
            if not locked.exists():
                continue
            total += _remind(receipt, now, today.isoformat())
    return total


def remind_overdue_replies(now: datetime | None = None) -> int:
    """A 主送 department that has not answered by the requested reply date is reminded once a day."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    total = 0
    letters = LetterPage.objects.signed().filter(reply_by__lt=today).select_related("issuing_department")
    for letter in letters:
        answered = set(LetterPage.objects.signed().filter(in_reply_to=letter).values_list("issuing_department_id", flat=True))
        for receipt in letter.receipts.filter(kind=ReceiptKind.MAIN).exclude(department_id__in=answered):
            total += notify(
                receiving_people([receipt.department_id]),
                kind=KIND_REPLY_OVERDUE,
                event_key=f"letter:{letter.pk}:reply-overdue:{receipt.department_id}:{today.isoformat()}",
                title=_("复函已逾期：%(number)s %(title)s") % {"number": letter.doc_number, "title": letter.title},
                body=_("发文部门要求于 %(date)s 前复函。") % {"date": letter.reply_by.isoformat()},
                url=letter.get_url() or "",
            )
    return total


def can_remind(letter: LetterPage, user) -> bool:
    if not letter.is_signed or not user.is_authenticated:
        return False
    if user.is_superuser or letter.owner_id == user.pk:
        return True
    return letter.issuing_department_id in signing_department_ids(user)


@transaction.atomic
def remind_now(letter: LetterPage, user) -> int:
    """催签 by the issuing department: reminds every unsigned receiving department now."""
    if not can_remind(letter, user):
        raise PermissionDenied(_("只有发文部门可以催签。"))
    now = timezone.now()
    total = 0
    for receipt in LetterReceipt.objects.pending().filter(letter=letter).select_related("letter", "department"):
        if receipt.last_reminded_at and (now - receipt.last_reminded_at).total_seconds() < MANUAL_REMINDER_GAP_SECONDS:
            continue
        total += _remind(receipt, now, now.strftime("%Y%m%dT%H%M"), by=user)
    return total


# --- 复函 -------------------------------------------------------------------------------------------------


def reply_title(original: LetterPage) -> str:
    title = original.title.strip()
    if title.endswith("复函"):
        return title
    if title.startswith("关于") and title.endswith("的函"):
        return title[:-1] + "复函"
    return f"关于《{title}》的复函"


def reply_department_for(original: LetterPage, user) -> Department | None:
    allowed = signing_department_ids(user)
    receipt = (
        LetterReceipt.objects.filter(letter=original, department_id__in=allowed)
        .select_related("department")
        .order_by("kind", "pk")
        .first()
    )
    return receipt.department if receipt else None


def can_reply(original: LetterPage, user) -> bool:
    return (
        original.is_signed
        and user.is_authenticated
        and user.has_perm("wagtailadmin.access_admin")
        and reply_department_for(original, user) is not None
    )


@transaction.atomic
def start_reply(original: LetterPage, user) -> LetterPage:
    """A draft 复函 from the user's receiving department back to the issuing department."""
    department = reply_department_for(original, user)
    if department is None or not original.is_signed:
        raise PermissionDenied(_("只有收文部门的负责人或对接人可以复函。"))
    existing = (
        LetterPage.objects.filter(in_reply_to=original, issuing_department=department, signed_at__isnull=True, owner=user)
        .order_by("-pk")
        .first()
    )
    if existing is not None:
        return existing
    index = LetterIndexPage.objects.first()
    reply = LetterPage(
        title=reply_title(original),
        issuing_department=department,
        subject=_("贵部《%(title)s》（%(number)s）收悉。现复函如下：") % {"title": original.title, "number": original.doc_number},
        classification=original.classification,
        in_reply_to=original,
        owner=user,
        live=False,
        slug=f"reply-{original.pk}-{timezone.now():%Y%m%d%H%M%S}",
    )
    reply.to_departments.set([original.issuing_department])
    if original.is_confidential:
        reply.named_readers.set(list(original.named_readers.all()))
    index.add_child(instance=reply)
    reply.save_revision(user=user, log_action=True)
    return reply


# --- reading for the page --------------------------------------------------------------------------------


def thread_of(letter: LetterPage, user) -> list[LetterPage]:
    """Every signed letter of the conversation the user may read, oldest first."""
    root_id = letter.thread_root_id or letter.pk
    return list(
        LetterPage.objects.visible_to(user)
        .filter(Q(pk=root_id) | Q(thread_root_id=root_id))
        .select_related("issuing_department")
        .order_by("signed_at", "pk")
    )


def letter_page_context(letter: LetterPage, user) -> dict:
    receipts = list(letter.receipts.select_related("department", "received_by"))
    mine = signing_department_ids(user) if user.is_authenticated else set()
    archive = LetterArchive.objects.filter(letter=letter).first()
    return {
        "receipts": receipts,
        "receipts_pending": [r for r in receipts if r.received_at is None],
        "my_pending_receipts": [r for r in receipts if r.received_at is None and r.department_id in mine],
        "thread": thread_of(letter, user) if letter.is_signed else [],
        "archive": archive,
        "archive_done": archive is not None and archive.status == ArchiveStatus.DONE,
        "can_remind": can_remind(letter, user),
        "can_reply": can_reply(letter, user),
        "attachments": list(letter.attachments.all()),
        "corrections": list(LetterPage.objects.visible_to(user).filter(corrects=letter)) if letter.is_signed else [],
        "body_sections": [
            (label, letter.paragraphs(name))
            for label, name in ((_("事由"), "subject"), (_("相关背景"), "background"), (_("要求和建议"), "requests"), ("", "body"))
            if letter.paragraphs(name)
        ],
        "to_departments": list(letter.to_departments.all()),
        "cc_departments": list(letter.cc_departments.all()),
    }


_NUMBER_SAFE = re.compile(r"[^0-9A-Za-z\u4e00-\u9fff]+")


def archive_filename(letter: LetterPage) -> str:
    """Deterministic per letter: letters/archive/<year>/<pk>-<number>.pdf."""
    number = _NUMBER_SAFE.sub("-", letter.doc_number or "").strip("-")
    return f"letters/archive/{letter.number_year or 0}/{letter.pk}-{number}.pdf"
