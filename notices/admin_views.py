"""Admin side of notices: the statistics view with exports and the “提醒未读” action."""

from __future__ import annotations

from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import views


def statistics(request, pk: int):
    notice = views._statistics_notice(request, pk)
    context = views.statistics_context(request, notice, namespace="notices_admin")
    context.update(
        {
            "page_title": _("阅读统计"),
            "page_subtitle": notice.title,
            "header_icon": "doc-full",
            "can_remind": True,
        }
    )
    return TemplateResponse(request, "notices/admin/statistics.html", context)


def export(request, pk: int, fmt: str):
    notice = views._statistics_notice(request, pk)
    return views.export_response(notice, request.user, fmt)


@require_POST
def remind(request, pk: int):
    notice = views._statistics_notice(request, pk)
    views.run_remind(request, notice)
    return redirect("notices_admin:statistics", pk=notice.pk)


def index(request):
    """Notices whose statistics this person may see, newest first, with confirmed counts."""
    from django.core.paginator import Paginator
    from django.db.models import Count, F, Q

    from wagtail.permission_policies.pages import PagePermissionPolicy

    from .models import NoticePage

    user = request.user
    qs = NoticePage.objects.all()
    if not user.is_superuser:
        editable = PagePermissionPolicy().instances_user_has_permission_for(user, "change")
        qs = qs.filter(Q(issuing_department__head=user) | Q(pk__in=editable.values("pk")))
    qs = (
        qs.select_related("issuing_department", "category")
        .defer_streamfields()
        .annotate(
            confirmed_count=Count("receipts", filter=Q(receipts__version=F("version")), distinct=True),
        )
        .order_by(F("first_published_at").desc(nulls_first=True), "-pk")
    )
    if request.GET.get("confirm") == "1":
        qs = qs.filter(requires_confirmation=True)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return TemplateResponse(
        request,
        "notices/admin/index.html",
        {"page_title": _("通告阅读统计"), "header_icon": "doc-full", "notices": page,
         "only_confirm": request.GET.get("confirm") == "1"},
    )
