"""Front-end views: the notice list and page, 已阅, attachments, statistics and exports."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from .models import NoticeAttachment, NoticeCategory, NoticePage
from .services import (
    NoticeError,
    ReminderTooSoon,
    confirm_notice,
    log_export,
    record_view,
    remind_unconfirmed,
)
from .statistics import export_csv, export_xlsx, notice_statistics, people_with_state

LIST_PAGE_SIZE = 20
PEOPLE_PAGE_SIZE = 50


def notice_list_context(request) -> dict:
    """The person's notices, unread first: a fixed number of queries whatever the count."""
    user = request.user
    qs = NoticePage.objects.current().visible_to(user).with_reader_state(user).for_listing()
    categories = list(NoticeCategory.objects.all())
    category = request.GET.get("category", "")
    if category.isdigit():
        qs = qs.filter(category_id=int(category))
    only_unread = request.GET.get("unread") == "1"
    if only_unread:
        qs = qs.filter(is_unread=True)
    q = request.GET.get("q", "").strip()[:50]
    if q:
        qs = qs.filter(title__icontains=q)
    page = Paginator(qs.reading_order(), LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return {
        "notices": page,
        "categories": categories,
        "current_category": category,
        "only_unread": only_unread,
        "query": q,
        "filter_query": params.urlencode(),
    }


def _is_editor(notice: NoticePage, user) -> bool:
    return user.is_authenticated and (user.is_superuser or notice.permissions_for_user(user).can_edit())


def serve_notice(notice: NoticePage, request, *args, **kwargs):
    """Only the audience sees a notice; anyone else gets 404 (editors may look, without a receipt)."""
    user = request.user
    preview = getattr(request, "is_preview", False)
    state = None
    if not preview:
        state = (
            NoticePage.objects.current()
            .visible_to(user)
            .with_reader_state(user)
            .filter(pk=notice.pk)
            .values("is_confirmed", "is_viewed")
            .first()
        )
    in_audience = state is not None
    if not in_audience and not preview and not _is_editor(notice, user):
        raise Http404
    receipt = None
    if in_audience:
        record_view(user, notice)
        if state["is_confirmed"]:
            receipt = notice.receipts.filter(user=user, version=notice.version).first()
    context = notice.get_context(request, *args, **kwargs)
    context.update(
        {
            "in_audience": in_audience,
            "is_preview": preview,
            "receipt": receipt,
            "attachments": list(notice.attachments.select_related("document")),
            "can_view_statistics": notice.can_view_statistics(user) if not preview else False,
            "confirm_revision": notice.version_revision_id,
        }
    )
    return TemplateResponse(request, notice.get_template(request), context)


def _wants_json(request) -> bool:
    accept = request.headers.get("Accept", "")
    return "application/json" in accept or request.headers.get("X-Requested-With") == "fetch"


@require_POST
def confirm(request, pk: int):
    """已阅. With JavaScript it answers JSON; without, it redirects back to the notice."""
    try:
        receipt, created = confirm_notice(
            request.user, pk, request.POST.get("revision"), user_agent=request.headers.get("User-Agent", "")
        )
    except NoticeError as exc:
        if _wants_json(request):
            return JsonResponse({"ok": False, "message": exc.message}, status=exc.status)
        return render(request, "notices/confirm_error.html", {"message": exc.message}, status=exc.status)
    when = timezone.localtime(receipt.confirmed_at).strftime("%Y-%m-%d %H:%M")
    message = _("已确认已阅（%(when)s）。") % {"when": when} if created else _("您已于 %(when)s 确认过。") % {"when": when}
    if _wants_json(request):
        return JsonResponse({"ok": True, "created": created, "confirmed_at": when, "message": message})
    messages.success(request, message)
    notice = NoticePage.objects.filter(pk=pk).first()
    return redirect(notice.get_url(request) if notice else "/")


@require_GET
def attachment(request, pk: int, attachment_id: int):
    """Attachments are served only to the notice's audience (and its editors)."""
    notice = get_object_or_404(NoticePage, pk=pk)
    if not notice.is_visible_to(request.user) and not _is_editor(notice, request.user):
        raise Http404
    item = get_object_or_404(NoticeAttachment.objects.select_related("document"), pk=attachment_id, page_id=pk)
    doc = item.document
    return FileResponse(doc.file.open("rb"), as_attachment=True, filename=doc.filename)


def _statistics_notice(request, pk: int) -> NoticePage:
    notice = get_object_or_404(
        NoticePage.objects.select_related("issuing_department", "category").defer_streamfields(), pk=pk
    )
    if not notice.can_view_statistics(request.user):
        raise PermissionDenied(_("只有通告的编辑者和发文部门负责人可以查看阅读统计。"))
    return notice


def statistics_context(request, notice: NoticePage, namespace: str = "notices") -> dict:
    stats = notice_statistics(notice)
    only_unconfirmed = request.GET.get("all") != "1"
    department = request.GET.get("department", "")
    if not department.isdigit():
        department = ""
    department_id = (int(department) or None) if department else None  # 0: people without a department
    chosen = stats.departments if department == "" else [d for d in stats.departments if d.department_id == department_id]
    total = sum(d.unconfirmed if only_unconfirmed else d.total for d in chosen)
    page_count = max(1, -(-total // PEOPLE_PAGE_SIZE))
    try:
        number = min(max(1, int(request.GET.get("page", 1))), page_count)
    except ValueError:
        number = 1
    start = (number - 1) * PEOPLE_PAGE_SIZE
    # The GROUP BY already says how many people each department has on the list, in the list's
    # order: read only the departments this page spans instead of sorting the whole audience.
    spanned, skip, seen = [], 0, 0
    for row in chosen:
        size = row.unconfirmed if only_unconfirmed else row.total
        if size and seen + size > start and seen < start + PEOPLE_PAGE_SIZE:
            if not spanned:
                skip = start - seen
            spanned.append(row.department_id)
        seen += size
    people = []
    if spanned:
        people = list(
            people_with_state(notice, department_ids=spanned, only_unconfirmed=only_unconfirmed)[
                skip : skip + PEOPLE_PAGE_SIZE
            ]
        )
    params = request.GET.copy()
    params.pop("page", None)
    self_url = reverse(f"{namespace}:statistics", args=[notice.pk])
    return {
        "notice": notice,
        "stats": stats,
        "people_rows": _people_rows_html(people, start),
        "department_rows": _department_rows_html(stats, self_url),
        "people": people,
        "people_total": total,
        "people_page": number,
        "people_pages": page_count,
        "people_start": start,
        "department": department,
        "only_unconfirmed": only_unconfirmed,
        "filter_query": params.urlencode(),
        "reminders": list(notice.reminders.select_related("sent_by")[:10]),
        "urls": {
            "self": self_url,
            "csv": reverse(f"{namespace}:export", args=[notice.pk, "csv"]),
            "xlsx": reverse(f"{namespace}:export", args=[notice.pk, "xlsx"]),
            "remind": reverse(f"{namespace}:remind", args=[notice.pk]),
        },
    }


_STATE_TAGS = {
    "confirmed": ("tag-green", "已确认"),
    "viewed": ("tag-amber", "仅打开"),
    "none": ("tag-red", "未打开"),
}


def _people_rows_html(people, start: int) -> str:
    """Table rows for the named list, formatted in Python: through the template engine a page
    of rows costs more than the statistics' SQL (see the benchmark). Text is escaped here."""
    rows = []
    for i, person in enumerate(people, start=start + 1):
        if person.confirmed_at:
            state, moment = "confirmed", person.confirmed_at
        elif person.viewed_at:
            state, moment = "viewed", person.viewed_at
        else:
            state, moment = "none", None
        tag, label = _STATE_TAGS[state]
        dept = person.department.name if person.department_id else "未分配部门"
        when = timezone.localtime(moment).strftime("%m-%d %H:%M") if moment else ""
        rows.append(
            f"<tr><td>{i}</td><td>{escape(person.get_full_name())}</td><td>{escape(dept)}</td>"
            f"<td>{escape(person.employee_no or '')}</td><td><span class=\"tag {tag}\">{label}</span></td>"
            f"<td>{when}</td></tr>"
        )
    return mark_safe("\n".join(rows))  # noqa: S308 - every value above is escaped or ours


def _department_rows_html(stats, base_url: str) -> str:
    url = escape(base_url)
    rows = []
    for d in stats.departments:
        rate = d.rate_percent
        rows.append(
            f'<tr><td><a href="{url}?department={d.department_id or 0}">{escape(d.name)}</a></td>'
            f"<td>{d.total}</td><td>{d.confirmed}</td><td>{d.viewed_only}</td><td>{d.not_opened}</td>"
            f'<td><span class="rate-bar" style="--rate: {rate}">{rate}</span></td></tr>'
        )
    return mark_safe("\n".join(rows))  # noqa: S308 - every value above is escaped or a number


def statistics(request, pk: int):
    notice = _statistics_notice(request, pk)
    context = statistics_context(request, notice)
    context["can_remind"] = True
    return render(request, "notices/statistics.html", context)


def export(request, pk: int, fmt: str):
    notice = _statistics_notice(request, pk)
    return export_response(notice, request.user, fmt)


def export_response(notice: NoticePage, user, fmt: str) -> HttpResponse:
    stamp = notice.last_published_at.strftime("%Y%m%d") if notice.last_published_at else "draft"
    filename = f"通告阅读统计-{notice.pk}-{stamp}.{fmt}"
    if fmt == "csv":
        response = HttpResponse(export_csv(notice), content_type="text/csv; charset=utf-8")
    elif fmt == "xlsx":
        response = HttpResponse(
            export_xlsx(notice), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
    else:
        raise Http404
    log_export(notice, user, fmt)
    from django.utils.encoding import escape_uri_path

    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{escape_uri_path(filename)}"
    return response


@require_POST
def remind(request, pk: int):
    """提醒未读 from the front-end statistics page (the issuing department's head)."""
    notice = _statistics_notice(request, pk)
    run_remind(request, notice)
    return redirect("notices:statistics", pk=notice.pk)


def run_remind(request, notice: NoticePage) -> None:
    try:
        count = remind_unconfirmed(notice, request.user)
    except ReminderTooSoon as exc:
        messages.warning(request, exc.message)
        return
    except NoticeError as exc:
        messages.error(request, exc.message)
        return
    if count:
        messages.success(request, _("已提醒 %(n)d 位尚未确认的人员。") % {"n": count})
    else:
        messages.info(request, _("所有接收人均已确认，无需提醒。"))
