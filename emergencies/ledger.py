"""The emergency ledger (filters, XLSX) and the monthly figures, each limited to what the
person may see."""

from __future__ import annotations

import datetime as dt
import io
import statistics

from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.models import Department

from .models import Emergency, EmergencyType, Status

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _month(value: str | None) -> tuple[dt.date, dt.date, str | None]:
    today = timezone.localdate()
    error = None
    try:
        year, month = (int(x) for x in (value or "").split("-")) if value else (today.year, today.month)
        first = dt.date(year, month, 1)
    except (TypeError, ValueError):
        error = _("月份格式不正确，应为 2026-12；已显示本月。")
        first = today.replace(day=1)
    nxt = (first + dt.timedelta(days=32)).replace(day=1)
    return first, nxt, error


def _bounds(first: dt.date, nxt: dt.date):
    tz = timezone.get_current_timezone()
    return (timezone.make_aware(dt.datetime.combine(first, dt.time()), tz),
            timezone.make_aware(dt.datetime.combine(nxt, dt.time()), tz))


def filtered(request):
    qs = Emergency.objects.visible_to(request.user).select_related("event_type", "site", "reporter", "acknowledged_by")
    first, nxt, error = _month(request.GET.get("month"))
    start, end = _bounds(first, nxt)
    qs = qs.filter(reported_at__gte=start, reported_at__lt=end)
    type_id = request.GET.get("type") or ""
    site_id = request.GET.get("site") or ""
    status = request.GET.get("status") or ""
    if type_id.isdigit():
        qs = qs.filter(event_type_id=int(type_id))
    if site_id.isdigit():
        qs = qs.filter(site_id=int(site_id))
    if status in Status.values:
        qs = qs.filter(status=status)
    # distinct: visible_to() joins departments and pages, which would multiply the count.
    qs = qs.annotate(missed=Count("milestones", filter=Q(milestones__missed_at__isnull=False), distinct=True))
    filters = {"month": first.strftime("%Y-%m"), "type": type_id, "site": site_id, "status": status}
    return qs.order_by("-reported_at"), filters, error


def _minutes(a, b):
    return None if a is None or b is None else round((b - a).total_seconds() / 60, 1)


def ledger(request):
    qs, filters, error = filtered(request)
    if request.GET.get("format") == "xlsx":
        return _xlsx(qs)
    return render(request, "emergencies/ledger.html", {
        "events": qs[:500], "filters": filters, "error": error, "types": EmergencyType.objects.all(),
        "sites": Department.objects.active(), "statuses": Status.choices, "title": _("突发事件台账"),
    })


def _xlsx(qs):
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "突发事件台账"
    ws.append(["编号", "类型", "等级", "项目/管理处", "位置", "上报人", "上报时间", "响应人", "响应用时（分钟）",
               "控制用时（分钟）", "状态", "超时节点数"])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for e in qs:
        ws.append([
            e.number, e.event_type.name, e.get_grade_display(), e.site.name, e.location, e.reporter.get_full_name(),
            timezone.localtime(e.reported_at).replace(tzinfo=None),
            e.acknowledged_by.get_full_name() if e.acknowledged_by_id else "",
            _minutes(e.reported_at, e.acknowledged_at), _minutes(e.reported_at, e.controlled_at),
            e.get_status_display(), e.missed,
        ])
    out = io.BytesIO()
    wb.save(out)
    response = HttpResponse(out.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="emergencies.xlsx"'
    return response


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


def monthly_figures(qs) -> dict:
    """Per type and per site: count, minutes to acknowledge and to control (median, p90), misses."""
    groups: dict[tuple[str, str], dict] = {}
    for e in qs:
        for key in (("type", e.event_type.name), ("site", e.site.name)):
            g = groups.setdefault(key, {"label": key[1], "count": 0, "ack": [], "control": [], "missed": 0})
            g["count"] += 1
            g["missed"] += e.missed
            if e.acknowledged_at:
                g["ack"].append(_minutes(e.reported_at, e.acknowledged_at))
            if e.controlled_at:
                g["control"].append(_minutes(e.reported_at, e.controlled_at))
    rows = {"type": [], "site": []}
    for (axis, _label), g in sorted(groups.items()):
        rows[axis].append({
            "label": g["label"], "count": g["count"], "missed": g["missed"],
            "ack_median": statistics.median(g["ack"]) if g["ack"] else None,
            "ack_p90": percentile(g["ack"], 90),
            "control_median": statistics.median(g["control"]) if g["control"] else None,
            "control_p90": percentile(g["control"], 90),
        })
    peak = max([r["count"] for r in rows["type"]] or [1])
    for r in rows["type"]:
        r["bar"] = round(100 * r["count"] / peak)
    return rows


def figures(request):
    qs, filters, error = filtered(request)
    rows = monthly_figures(list(qs))
    return render(request, "emergencies/figures.html", {
        "rows": rows, "filters": filters, "error": error, "total": sum(r["count"] for r in rows["type"]),
        "title": _("突发事件月度统计"),
    })
