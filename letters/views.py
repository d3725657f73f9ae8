"""Front-end views: the letters inbox, 签收, 催签, 复函, and permission-checked downloads."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from portal.notifications.services import notify

from .archive import verify_archive
from .models import ArchiveStatus, LetterArchive, LetterAttachment, LetterIndexPage, LetterPage, LetterReceipt
from .models.pages import user_department_ids
from .models.records import signing_department_ids
from .services import (
    KIND_ARCHIVE_FAILED,
    LetterNotSigned,
    administrators,
    receive_letter,
    remind_now,
    start_reply,
)

TABS = [
    ("pending", gettext_lazy("待签收")),
    ("received", gettext_lazy("收文")),
    ("sent", gettext_lazy("发文")),
    ("drafts", gettext_lazy("我的草稿")),
    ("all", gettext_lazy("全部")),
]


def pending_receipts_for(user):
    return (
        LetterReceipt.objects.pending()
        .for_user(user)
        .filter(letter__live=True, letter__signed_at__isnull=False)
    )


def letters_to_review(user) -> list[LetterPage]:
    """Letters waiting for this person's 审核 or 签发 (their workflow step is in progress)."""
    if not user.has_perm("wagtailadmin.access_admin"):
        return []
    from wagtail.models import TaskState

    ids = {
        int(oid)
        for oid in TaskState.objects.reviewable_by(user).values_list("workflow_state__object_id", flat=True)
        if str(oid).isdigit()
    }
    return list(LetterPage.objects.filter(pk__in=ids).select_related("issuing_department").order_by("-pk")[:20])


def _visible_letter(request, pk: int) -> LetterPage:
    letter = LetterPage.objects.visible_to(request.user).filter(pk=pk).first()
    if letter is None:
        raise Http404
    return letter


def inbox(request):
    user = request.user
    pending_count = pending_receipts_for(user).count()
    dept_ids = user_department_ids(user) | set(user.supervised_departments.values_list("pk", flat=True))
    default = "pending" if pending_count else ("received" if signing_department_ids(user) else "all")
    tab = request.GET.get("tab") or default
    if tab not in dict(TABS):
        tab = default
    visible = LetterPage.objects.visible_to(user)
    if tab == "pending":
        letter_ids = pending_receipts_for(user).values("letter_id")
        qs = visible.filter(pk__in=letter_ids)
    elif tab == "received":
        qs = visible.filter(Q(to_departments__in=dept_ids) | Q(cc_departments__in=dept_ids)).distinct()
    elif tab == "sent":
        qs = visible.filter(issuing_department_id__in=dept_ids)
    elif tab == "drafts":
        qs = LetterPage.objects.filter(owner=user, signed_at__isnull=True)
    else:
        qs = visible
    qs = qs.select_related("issuing_department").order_by("-signed_at", "-latest_revision_created_at", "-pk")
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    mine = signing_department_ids(user)
    letters = list(page.object_list)
    pending_ids = set(
        LetterReceipt.objects.pending().filter(letter__in=letters, department_id__in=mine).values_list("letter_id", flat=True)
    )
    receipt_totals = {}
    for letter_id, received_at in LetterReceipt.objects.filter(letter__in=letters).values_list("letter_id", "received_at"):
        done, total = receipt_totals.get(letter_id, (0, 0))
        receipt_totals[letter_id] = (done + (received_at is not None), total + 1)
    rows = [
        {"letter": letter, "pending_for_me": letter.pk in pending_ids, "receipts": receipt_totals.get(letter.pk, (0, 0))}
        for letter in letters
    ]
    index = LetterIndexPage.objects.first()
    can_draft = bool(index) and index.permissions_for_user(user).can_add_subpage()
    to_review = letters_to_review(user)
    return render(
        request,
        "letters/inbox.html",
        {
            "title": _("部门间函件"),
            "tabs": TABS,
            "tab": tab,
            "page": page,
            "rows": rows,
            "pending_count": pending_count,
            "to_review": to_review,
            "new_url": reverse("wagtailadmin_pages:add", args=["letters", "letterpage", index.pk]) if can_draft else "",
        },
    )


@require_POST
def receive(request, pk: int):
    letter = _visible_letter(request, pk)
    department_id = request.POST.get("department")
    department = None
    if department_id:
        if not (department_id.isascii() and department_id.isdigit()):
            raise Http404  # a forged or garbled department id: not a server error
        department = get_object_or_404(LetterReceipt, letter=letter, department_id=department_id).department
    try:
        receipt = receive_letter(letter, request.user, department)
    except (PermissionDenied, LetterNotSigned) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("%(dept)s 已签收。") % {"dept": receipt.department.name})
    return redirect(letter.get_url() or "letters:inbox")


@require_POST
def remind(request, pk: int):
    letter = _visible_letter(request, pk)
    try:
        sent = remind_now(letter, request.user)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        if sent:
            messages.success(request, _("已提醒 %(n)s 人签收。") % {"n": sent})
        else:
            messages.info(request, _("没有需要提醒的部门（五分钟内已提醒过的不再重复提醒）。"))
    return redirect(letter.get_url() or "letters:inbox")


@require_POST
def reply(request, pk: int):
    letter = _visible_letter(request, pk)
    try:
        draft = start_reply(letter, request.user)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
        return redirect(letter.get_url() or "letters:inbox")
    messages.success(request, _("已生成复函草稿，请完善后提交审核。"))
    return redirect("wagtailadmin_pages:edit", draft.pk)


def download_pdf(request, pk: int):
    letter = _visible_letter(request, pk)
    archive = LetterArchive.objects.filter(letter=letter, status=ArchiveStatus.DONE).first()
    if archive is None:
        raise Http404(_("该函件尚未归档。"))
    if not verify_archive(archive):
        notify(
            administrators(),
            kind=KIND_ARCHIVE_FAILED,
            event_key=f"letter:{letter.pk}:hash-mismatch",
            title=_("归档文件校验失败：%(number)s") % {"number": letter.doc_number},
            body=_("存档 PDF 的 SHA-256 与归档时记录的不一致，文件可能已被改动。"),
            url=letter.get_url() or "",
        )
        return HttpResponse(
            _("归档文件校验失败（SHA-256 不一致），已通知管理员。"), status=500, content_type="text/plain; charset=utf-8"
        )
    response = FileResponse(
        archive.file.open("rb"),
        content_type="application/pdf",
        as_attachment=request.GET.get("download") == "1",
        filename=f"{letter.doc_number}.pdf",
    )
    response["X-Content-SHA256"] = archive.sha256
    response["Cache-Control"] = "private, no-store"
    return response


def download_attachment(request, pk: int, attachment_id: int):
    letter = LetterPage.objects.filter(pk=pk).first()
    if letter is None:
        raise Http404
    if not letter.is_visible_to(request.user) and not letter.permissions_for_user(request.user).can_edit():
        raise Http404
    attachment = get_object_or_404(LetterAttachment, page_id=letter.pk, pk=attachment_id)
    if not attachment.file:
        raise Http404
    response = FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.filename)
    response["Cache-Control"] = "private, no-store"
    return response
