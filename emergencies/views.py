"""Pages of 紧急事项: report, event timeline and actions, who is on duty, rosters, photos."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal.models import Department

from . import rosters, services
from .forms import (
    CopyWeekForm,
    GroupForm,
    HandoverForm,
    ReportForm,
    ReviewForm,
    RosterImportForm,
    StatusForm,
    UpdateForm,
    site_initial,
)
from .models import OPEN_STATUSES, DutyShift, Emergency, HandoverNote, Photo, Review, TimelineEntry

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _visible(request, pk) -> tuple[Emergency, services.EmergencyPermissions]:
    emergency = get_object_or_404(Emergency.objects.select_related("event_type", "site", "reporter"), pk=pk)
    perms = services.EmergencyPermissions(request.user, emergency)
    if not perms.can_view:
        # Same answer as a missing event: a guessed number tells nothing.
        raise Http404
    return emergency, perms


def report(request):
    if request.method == "POST":
        form = ReportForm(request.POST)
        photos = request.FILES.getlist("photos")
        if form.is_valid():
            data = form.cleaned_data
            try:
                emergency, created = services.report_emergency(
                    request.user, idempotency_key=data["key"], event_type=data["event_type"], site=data["site"],
                    location=data["location"], description=data["description"], grade=data["grade"],
                    photos=photos,
                )
            except services.EmergencyError as exc:
                form.add_error(None, exc.message)
            else:
                if created:
                    messages.success(request, _("已上报 %s，值班人员已收到呼叫。") % emergency.number)
                return redirect(emergency)
        if photos:
            form.add_error(None, _("照片需要重新选择。"))
    else:
        form = ReportForm(initial={"key": uuid.uuid4().hex, "site": site_initial(request.user)})
    return render(request, "emergencies/report.html", {"form": form, "title": _("突发事件上报")})


def _detail_context(request, emergency, perms, **forms):
    milestones = list(emergency.milestones.order_by("due_at", "pk"))
    ctx = {
        "emergency": emergency,
        "can": perms,
        "milestones": milestones,
        "entries": _entries(emergency),
        "paged": emergency.paged.select_related("user", "department"),
        "phone_messages": emergency.phone_messages.select_related("user").order_by("created_at", "pk"),
        "update_form": forms.get("update_form") or UpdateForm(initial={"kind": "progress"}),
        "group_form": forms.get("group_form"),
        "review": Review.objects.filter(emergency=emergency).prefetch_related("rectifications__matter").first(),
        "review_form": forms.get("review_form") or ReviewForm(),
        "now": timezone.now(),
        "title": emergency.number,
    }
    if perms.can_manage and emergency.is_open and ctx["group_form"] is None:
        ctx["group_form"] = GroupForm()
    return ctx


def _entries(emergency):
    return (
        TimelineEntry.objects.filter(emergency=emergency).select_related("actor")
        .prefetch_related(Prefetch("photos", queryset=Photo.objects.order_by("pk"))).order_by("created_at", "pk")
    )


def detail(request, pk):
    emergency, perms = _visible(request, pk)
    return render(request, "emergencies/emergency_detail.html", _detail_context(request, emergency, perms))


def timeline(request, pk):
    """The timeline alone, polled by the detail page so it refreshes without a reload."""
    emergency, _perms = _visible(request, pk)
    return render(request, "emergencies/includes/timeline.html",
                  {"emergency": emergency, "entries": _entries(emergency),
                   "milestones": emergency.milestones.order_by("due_at", "pk"), "now": timezone.now()})


def _act(request, pk, action):
    emergency, perms = _visible(request, pk)
    try:
        action(emergency, perms)
    except services.EmergencyError as exc:
        messages.error(request, exc.message)
    return redirect(emergency)


@require_POST
def acknowledge(request, pk):
    def run(emergency, perms):
        services.acknowledge(emergency, request.user)
        messages.success(request, _("已响应，请尽快到场处置。"))

    return _act(request, pk, run)


@require_POST
def update(request, pk):
    emergency, perms = _visible(request, pk)
    form = UpdateForm(request.POST)
    if form.is_valid():
        try:
            services.add_update(emergency, request.user, kind=form.cleaned_data["kind"],
                                text=form.cleaned_data["text"], photos=request.FILES.getlist("photos"))
        except services.EmergencyError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("已发布。"))
            return redirect(emergency)
    ctx = _detail_context(request, emergency, perms, update_form=form)
    return render(request, "emergencies/emergency_detail.html", ctx, status=400)


@require_POST
def change_status(request, pk):
    form = StatusForm(request.POST)

    def run(emergency, perms):
        if not form.is_valid():
            raise services.InvalidInput(_("不能设置为该状态。"))
        services.change_status(emergency, request.user, form.cleaned_data["status"], text=form.cleaned_data["text"])
        messages.success(request, _("状态已更新。"))

    return _act(request, pk, run)


@require_POST
def group(request, pk):
    emergency, perms = _visible(request, pk)
    form = GroupForm(request.POST)
    if form.is_valid():
        try:
            services.form_group(emergency, request.user, users=form.cleaned_data["members"])
        except services.EmergencyError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("应急小组成员已收到呼叫。"))
            return redirect(emergency)
    return render(request, "emergencies/emergency_detail.html",
                  _detail_context(request, emergency, perms, group_form=form), status=400)


@require_POST
def review(request, pk):
    emergency, perms = _visible(request, pk)
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            services.submit_review(emergency, request.user, cause=form.cleaned_data["cause"],
                                   lessons=form.cleaned_data["lessons"], measures_text=form.cleaned_data["measures"])
        except services.EmergencyError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("复盘报告已提交，整改措施已转为跟踪事项。"))
            return redirect(emergency)
    return render(request, "emergencies/emergency_detail.html",
                  _detail_context(request, emergency, perms, review_form=form), status=400)


def photo(request, pk):
    item = get_object_or_404(Photo.objects.select_related("emergency"), pk=pk)
    if not services.EmergencyPermissions(request.user, item.emergency).can_view:
        raise Http404
    response = FileResponse(item.file.open("rb"), content_type=item.content_type or "application/octet-stream")
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response


def index(request):
    """Events the person may see: open first."""
    qs = Emergency.objects.visible_to(request.user).select_related("event_type", "site")
    open_events = list(qs.open().order_by("-reported_at")[:50])
    closed = list(qs.exclude(status__in=OPEN_STATUSES).order_by("-reported_at")[:20])
    return render(request, "emergencies/index.html",
                  {"open_events": open_events, "closed": closed, "title": _("紧急事项")})


def on_duty_now(request):
    """Who is on duty now, per department and site, with tel: links."""
    now = timezone.now()
    shifts = list(DutyShift.objects.on_duty(now).select_related("person", "department"))
    by_dept: dict = {}
    for s in shifts:
        by_dept.setdefault(s.department_id, []).append(s)
    rows = [{"department": None, "name": _("公司级值班"), "shifts": by_dept.get(None, []), "phone": ""}]
    for d in Department.objects.active().order_by("sort_order", "name"):
        if d.kind == "company":
            continue
        rows.append({"department": d, "name": d.name, "shifts": by_dept.get(d.pk, []), "phone": d.phone})
    if request.method == "POST":
        form = HandoverForm(request.POST)
        if form.is_valid():
            note = HandoverNote.objects.create(department=form.cleaned_data["department"], author=request.user,
                                               text=form.cleaned_data["text"].strip())
            from wagtail.log_actions import log

            log(instance=note, action="emergencies.handover", user=request.user)
            messages.success(request, _("交接班记录已保存。"))
            return redirect("emergencies:on_duty")
    else:
        form = HandoverForm(initial={"department": request.user.department_id})
    notes = HandoverNote.objects.select_related("author", "department")[:10]
    return render(request, "emergencies/on_duty.html",
                  {"rows": rows, "notes": notes, "form": form, "now": now, "title": _("当前值班")})


def _require_roster_admin(user):
    if not user.has_perm("emergencies.add_dutyshift"):
        raise PermissionDenied


def roster_template(request):
    _require_roster_admin(request.user)
    response = HttpResponse(rosters.template_workbook(), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="roster-template.xlsx"'
    return response


def roster_tools(request):
    """Import an XLSX roster and copy a week: for roster administrators."""
    _require_roster_admin(request.user)
    import_form, copy_form = RosterImportForm(), CopyWeekForm()
    warnings = []
    status = 200
    if request.method == "POST" and request.POST.get("action") == "import":
        import_form = RosterImportForm(request.POST, request.FILES)
        if import_form.is_valid():
            try:
                created, skipped, warnings = rosters.import_roster(import_form.cleaned_data["file"], request.user)
            except services.EmergencyError as exc:
                import_form.add_error("file", exc.message)
                status = 400
            else:
                messages.success(request, _("已导入 %(c)d 条值班安排（%(s)d 条已存在，未重复导入）。") % {
                    "c": created, "s": skipped})
        else:
            status = 400
    elif request.method == "POST" and request.POST.get("action") == "copy":
        copy_form = CopyWeekForm(request.POST)
        if copy_form.is_valid():
            data = copy_form.cleaned_data
            try:
                created = rosters.copy_week(data["source"], data["target"], request.user, department=data["department"])
            except services.EmergencyError as exc:
                copy_form.add_error(None, exc.message)
                status = 400
            else:
                messages.success(request, _("已复制 %d 条值班安排。") % created)
                import datetime as dt

                warnings = rosters.roster_warnings(data["target"], data["target"] + dt.timedelta(days=6))
        else:
            status = 400
    return render(request, "emergencies/roster_tools.html",
                  {"import_form": import_form, "copy_form": copy_form, "warnings": warnings,
                   "title": _("值班表导入与复制")}, status=status)
