"""Front-end meeting pages. Thin: parse the input, call a service, show its Chinese error with
the input kept. Every object is looked up through ``visible_to`` (a guessed URL is a 404)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

import segno

from portal.models import Department, User

from . import ics, reports, services
from .forms import DecisionFormSet, MeetingRequestForm, MinutesForm, MoveForm
from .models import (
    CalendarFeed,
    Decision,
    Meeting,
    MeetingStatus,
    MeetingType,
    Minutes,
    MinutesStatus,
    Participant,
)
from .permissions import MeetingPermissions, can_organise
from .suggestions import agenda_suggestions


def _meeting(request, pk) -> Meeting:
    m = Meeting.objects.visible_to(request.user).select_related("type", "room", "organiser", "chair").filter(pk=pk).first()
    if m is None:
        raise Http404(_("会议不存在或您无权查看。"))
    return m


def index(request):
    visible = Meeting.objects.visible_to(request.user).select_related("type", "room")
    now = timezone.now()
    return render(request, "meetings/index.html", {
        "title": _("协调会议"),
        "to_approve": Meeting.objects.filter(status=MeetingStatus.REQUESTED, approver_user=request.user)
        .select_related("type", "organiser"),
        "upcoming": visible.filter(end__gte=now, status__in=[MeetingStatus.REQUESTED, MeetingStatus.SCHEDULED])
        .order_by("start")[:50],
        "past": visible.filter(end__lt=now).order_by("-start")[:20],
        "can_request": can_organise(request.user),
    })


def request_meeting(request):
    if not can_organise(request.user):
        raise Http404(_("只有部门负责人、分管领导或协调岗可以申请会议。"))
    form = MeetingRequestForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            meeting = services.request_meeting(
                mtype=d["mtype"], subject=d["subject"], reason=d["reason"], organiser=request.user,
                start=d["start"], end=d["end"], room=d["room"], place=d["place"], departments=list(d["departments"]),
                people=list(d["people"]), related_matters=list(d["related_matters"]),
                lead_time_reason=d["lead_time_reason"],
            )
        except services.MeetingError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("会议申请已提交，等待审批。"))
            return redirect(meeting.get_absolute_url())
    return render(request, "meetings/request.html", {"title": _("申请会议"), "form": form}, status=400 if form.errors else 200)


def detail(request, pk, move_form=None):
    meeting = _meeting(request, pk)
    perms = MeetingPermissions(request.user, meeting)
    participants = list(meeting.participants.select_related("user", "department", "delegate", "signed_in_by"))
    minutes = Minutes.objects.filter(meeting=meeting).prefetch_related("signoffs__department", "signoffs__signed_by").first()
    receipts = set()
    if minutes:
        receipts = set(minutes.receipts.filter(version=minutes.version).values_list("user_id", flat=True))
    me = next((p for p in participants if p.user_id == request.user.pk), None)
    context = {
        "title": meeting.subject,
        "meeting": meeting,
        "perms": perms,
        "participants": participants,
        "me": me,
        "minutes": minutes,
        "receipts": receipts,
        "read_count": len(receipts),
        "agenda": meeting.agenda.select_related("department", "submitted_by", "matter"),
        "decisions": meeting.decisions.select_related("responsible_department", "responsible_person", "matter"),
        "move_form": move_form or MoveForm(initial={"start": meeting.start, "end": meeting.end, "room": meeting.room}),
        "suggestions": agenda_suggestions(meeting) if perms.can_manage else [],
        "sign_in_url": request.build_absolute_uri(reverse("meetings:sign_in", args=[meeting.pk, meeting.checkin_token]))
        if perms.can_manage else "",
        "colleagues": User.objects.filter(department_id=request.user.department_id, is_active=True)
        .exclude(pk=request.user.pk) if me else [],
        "now": timezone.now(),
        "signoffs_mine": [s for s in (minutes.signoffs.all() if minutes else [])
                          if s.version == minutes.version and s.signed_at is None and perms.can_sign_off(s.department_id)],
    }
    return render(request, "meetings/meeting_detail.html", context, status=400 if move_form else 200)


def _back(meeting, request, ok: str | None = None, error: Exception | None = None):
    if error is not None:
        messages.error(request, str(error))
    elif ok:
        messages.success(request, ok)
    return redirect(meeting.get_absolute_url())


@require_POST
def decide(request, pk):
    meeting = _meeting(request, pk)
    action = request.POST.get("action")
    try:
        if action == "approve":
            services.approve_meeting(meeting, request.user, note=request.POST.get("note", ""))
            return _back(meeting, request, _("已批准，会议通知已发给参会人。"))
        if action == "refuse":
            services.refuse_meeting(meeting, request.user, reason=request.POST.get("note", ""))
            return _back(meeting, request, _("已不予批准，申请人会收到理由。"))
        if action == "cancel":
            services.cancel_meeting(meeting, request.user, reason=request.POST.get("note", ""))
            return _back(meeting, request, _("会议已取消，参会人会收到通知。"))
    except services.MeetingError as exc:
        return _back(meeting, request, error=exc)
    return _back(meeting, request, error=services.InvalidInput(_("未知操作。")))


@require_POST
def move(request, pk):
    meeting = _meeting(request, pk)
    form = MoveForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.move_meeting(meeting, request.user, start=d["start"], end=d["end"], room=d["room"],
                                  place=d["place"], reason=d["reason"])
        except services.MeetingError as exc:
            form.add_error(None, str(exc))
        else:
            return _back(meeting, request, _("会议已改期，参会人和日历会更新。"))
    return detail(request, pk, move_form=form)


@require_POST
def respond(request, pk):
    meeting = _meeting(request, pk)
    delegate = None
    if request.POST.get("delegate"):
        delegate = User.objects.filter(pk=request.POST["delegate"] if request.POST["delegate"].isdigit() else 0,
                                       is_active=True).first()
    try:
        services.respond(meeting, request.user, response=request.POST.get("response", ""),
                         reason=request.POST.get("reason", ""), delegate=delegate)
    except services.MeetingError as exc:
        return _back(meeting, request, error=exc)
    return _back(meeting, request, _("已答复。"))


def sign_in(request, pk, token):
    """The page the room's QR code opens on the phone."""
    import secrets

    meeting = Meeting.objects.select_related("type", "room").filter(pk=pk).first()
    # A guessed id or code shows nothing about the meeting; a valid code (the QR in the room) by
    # someone not invited, or after the meeting, is refused and recorded by the service.
    if meeting is None or not secrets.compare_digest(str(token), meeting.checkin_token):
        raise Http404(_("签到码无效。"))
    result = error = None
    if request.method == "POST":
        try:
            result = services.sign_in(meeting, request.user, token=token)
        except services.SignInRefused as exc:
            error = str(exc)
    return render(request, "meetings/sign_in.html", {"title": _("会议签到"), "meeting": meeting, "result": result,
                                                      "error": error}, status=403 if error else 200)


def sign_in_qr(request, pk):
    meeting = _meeting(request, pk)
    if not MeetingPermissions(request.user, meeting).can_manage:
        raise Http404
    url = request.build_absolute_uri(reverse("meetings:sign_in", args=[meeting.pk, meeting.checkin_token]))
    qr = segno.make(url, error="m")
    return HttpResponse(qr.svg_inline(scale=6), content_type="image/svg+xml")


@require_POST
def attendance(request, pk):
    meeting = _meeting(request, pk)
    try:
        n = services.mark_attendance(meeting, request.user, present_ids=request.POST.getlist("present"))
    except services.MeetingError as exc:
        return _back(meeting, request, error=exc)
    return _back(meeting, request, _("已登记 %d 人签到。") % n)


@require_POST
def agenda_submit(request, pk):
    meeting = _meeting(request, pk)
    try:
        services.submit_agenda_item(meeting, request.user, title=request.POST.get("title", ""),
                                    note=request.POST.get("note", ""))
    except services.MeetingError as exc:
        return _back(meeting, request, error=exc)
    return _back(meeting, request, _("议题已提交。"))


@require_POST
def agenda_arrange(request, pk):
    meeting = _meeting(request, pk)
    accepted = {int(i) for i in request.POST.getlist("accepted") if i.isdigit()}
    order = {}
    for item in meeting.agenda.all():
        raw = request.POST.get(f"position-{item.pk}", "")
        if raw.isdigit():
            order[item.pk] = int(raw)
    try:
        services.arrange_agenda(meeting, request.user, accepted_ids=accepted, order=order)
    except services.MeetingError as exc:
        return _back(meeting, request, error=exc)
    return _back(meeting, request, _("议程已更新。"))


def minutes_edit(request, pk):
    meeting = _meeting(request, pk)
    perms = MeetingPermissions(request.user, meeting)
    if not perms.can_manage:
        raise Http404(_("只有会议组织人（秘书）、主持人或协调岗可以编写纪要。"))
    minutes = services.minutes_for(meeting)
    if minutes.status == MinutesStatus.PUBLISHED:
        messages.info(request, _("纪要已发布。"))
        return redirect(meeting.get_absolute_url())
    if request.method == "POST":
        form = MinutesForm(request.POST)
        formset = DecisionFormSet(request.POST, prefix="d")
        if form.is_valid() and formset.is_valid():
            rows = [f.cleaned_data for f in formset.forms if f.cleaned_data]
            try:
                services.save_minutes(meeting, request.user, revision=form.cleaned_data["revision"],
                                      summary=form.cleaned_data["summary"], discussion=form.cleaned_data["discussion"],
                                      decisions=rows)
                if request.POST.get("submit") == "1":
                    services.submit_minutes(services.minutes_for(meeting), request.user)
                    messages.success(request, _("纪要已提交会签和主持人审批。"))
                    return redirect(meeting.get_absolute_url())
            except services.MeetingError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("纪要已保存。"))
                return redirect(reverse("meetings:minutes", args=[meeting.pk]))
    else:
        form = MinutesForm(initial={"revision": minutes.revision, "summary": minutes.summary,
                                    "discussion": minutes.discussion})
        formset = DecisionFormSet(prefix="d", initial=[
            {"text": d.text, "department": d.responsible_department, "person": d.responsible_person,
             "due_date": d.due_date} for d in meeting.decisions.all()])
    att, absent = services._attendance_text(meeting)
    return render(request, "meetings/minutes_edit.html", {
        "title": _("编写纪要"), "meeting": meeting, "minutes": minutes, "form": form, "formset": formset,
        "attendees": att, "absentees": absent, "agenda": meeting.agenda.filter(accepted=True),
    }, status=400 if (form.errors or formset.total_error_count()) else 200)


@require_POST
def minutes_action(request, pk):
    meeting = _meeting(request, pk)
    minutes = Minutes.objects.filter(meeting=meeting).first()
    if minutes is None:
        raise Http404
    action = request.POST.get("action")
    try:
        if action == "sign_off":
            dept = Department.objects.filter(pk=request.POST.get("department") or 0).first() \
                if (request.POST.get("department") or "").isdigit() else None
            if dept is None:
                raise services.InvalidInput(_("请选择会签部门。"))
            services.sign_off_minutes(minutes, request.user, department=dept, remark=request.POST.get("remark", ""))
            return _back(meeting, request, _("已会签。"))
        if action == "publish":
            services.publish_minutes(minutes, request.user)
            return _back(meeting, request, _("纪要已发布，决议已转为督办事项。"))
        if action == "read":
            services.confirm_read(minutes, request.user)
            return _back(meeting, request, _("已确认阅读。"))
        if action == "correct":
            services.correct_minutes(minutes, request.user, note=request.POST.get("note", ""),
                                     summary=request.POST.get("summary", minutes.summary),
                                     discussion=request.POST.get("discussion", minutes.discussion))
            return _back(meeting, request, _("更正版本已发布，参会人需重新确认。"))
    except services.MeetingError as exc:
        return _back(meeting, request, error=exc)
    return _back(meeting, request, error=services.InvalidInput(_("未知操作。")))


def minutes_print(request, pk):
    meeting = _meeting(request, pk)
    minutes = get_object_or_404(Minutes, meeting=meeting, status=MinutesStatus.PUBLISHED)
    return render(request, "meetings/minutes_print.html", {
        "title": _("会议纪要"), "meeting": meeting, "minutes": minutes,
        "decisions": meeting.decisions.select_related("responsible_department", "responsible_person", "matter"),
        "signoffs": minutes.signoffs.filter(version=minutes.version).select_related("department", "signed_by"),
    })


def invitation(request, pk):
    meeting = _meeting(request, pk)
    response = HttpResponse(ics.invitation(meeting), content_type="text/calendar; charset=utf-8; method="
                            + ("CANCEL" if meeting.status in {MeetingStatus.CANCELLED, MeetingStatus.REFUSED} else "REQUEST"))
    response["Content-Disposition"] = f'attachment; filename="meeting-{meeting.pk}.ics"'
    return response


def feed_settings(request):
    feed = CalendarFeed.objects.filter(user=request.user).first()
    if request.method == "POST":
        import secrets

        if request.POST.get("action") == "revoke":
            CalendarFeed.objects.filter(user=request.user).delete()
            feed = None
            messages.success(request, _("订阅地址已作废。"))
        else:
            feed, _created = CalendarFeed.objects.get_or_create(user=request.user)
            if not _created:
                feed.token = secrets.token_urlsafe()
                feed.save(update_fields=["token"])
            messages.success(request, _("已生成新的订阅地址，旧地址失效。"))
        from wagtail.log_actions import log

        log(instance=request.user, action="meetings.feed_" + (request.POST.get("action") or "renew"), user=request.user)
        return redirect("meetings:feed_settings")
    url = request.build_absolute_uri(reverse("meetings:feed", args=[feed.token])) if feed else ""
    return render(request, "meetings/feed_settings.html", {"title": _("日历订阅"), "feed": feed, "url": url})


@login_not_required
def feed(request, token):
    """The subscription feed (no login: calendar apps cannot log in; the secret token is the key)."""
    row = CalendarFeed.objects.filter(token=token).select_related("user").first()
    if row is None or not row.user.is_active:
        raise Http404
    meetings = (
        Meeting.objects.filter(participants__user=row.user)
        .exclude(status__in=[MeetingStatus.REQUESTED])
        .filter(start__gte=timezone.now() - timezone.timedelta(days=60))
        .select_related("type", "room", "organiser").distinct()
    )
    return HttpResponse(ics.feed(meetings), content_type="text/calendar; charset=utf-8")




def _ledger_args(request):
    series = MeetingType.objects.filter(pk=request.GET.get("series")).first() if (request.GET.get("series") or "").isdigit() else None
    dept = Department.objects.filter(pk=request.GET.get("department")).first() if (request.GET.get("department") or "").isdigit() else None
    state = request.GET.get("state", "")
    return series, dept, state if state in reports.STATES else ""


def ledger(request):
    series, dept, state = _ledger_args(request)
    today = timezone.localdate()
    qs = reports.filter_ledger(Decision.objects.visible_to(request.user), series=series, department=dept, state=state,
                               today=today).order_by("due_date", "pk")
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(reports.ledger_xlsx(qs, today),
                                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        response["Content-Disposition"] = 'attachment; filename="decisions.xlsx"'
        return response
    from django.core.paginator import Paginator

    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    rows = [(d, reports.state_of(d, today)) for d in page.object_list]
    return render(request, "meetings/ledger.html", {
        "title": _("督办台账"), "rows": rows, "page_obj": page, "states": reports.STATES,
        "series_list": MeetingType.objects.all(), "departments": Department.objects.active(),
        "series": series, "department": dept, "state": state, "query": request.GET.urlencode(),
    })


def weekly(request):
    today = timezone.localdate()
    report = reports.weekly_report(Decision.objects.visible_to(request.user), today)
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(reports.weekly_xlsx(report),
                                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        response["Content-Disposition"] = 'attachment; filename="weekly-report.xlsx"'
        return response
    monday, sunday = reports.week_bounds(today)
    return render(request, "meetings/weekly.html", {"title": _("督办周报"), "report": report, "monday": monday,
                                                     "sunday": sunday})


@require_POST
def close_decision(request, pk):
    decision = Decision.objects.visible_to(request.user).select_related("meeting").filter(pk=pk).first()
    if decision is None:
        raise Http404
    try:
        services.close_decision(decision, request.user, result=request.POST.get("result", ""),
                                overdue_reason=request.POST.get("overdue_reason", ""))
    except services.MeetingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("决议已关闭。"))
    return redirect(request.POST.get("next") if (request.POST.get("next") or "").startswith("/meetings/")
                    else reverse("meetings:ledger"))


def training(request):
    """培训记录: sign-ins of training meetings, per person (own records; coordinators all)."""
    from matters.models import is_coordinator

    qs = Participant.objects.filter(meeting__type__is_training=True, signed_in_at__isnull=False).select_related(
        "user", "department", "meeting__type").order_by("user__department__name", "user__last_name", "-signed_in_at")
    from matters.models import user_department_ids

    hr = Department.objects.filter(code="hr", pk__in=user_department_ids(request.user)).exists()
    if not (is_coordinator(request.user) or hr):
        qs = qs.filter(user=request.user)
    if request.GET.get("format") == "xlsx":
        data = reports._workbook(
            [_("姓名"), _("部门"), _("培训"), _("日期"), _("签到时间")],
            ([p.user.get_full_name(), p.department.name if p.department_id else "", p.meeting.subject,
              timezone.localtime(p.meeting.start).date(), timezone.localtime(p.signed_in_at).strftime("%H:%M")]
             for p in qs), str(_("培训记录")))
        response = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        response["Content-Disposition"] = 'attachment; filename="training.xlsx"'
        return response
    return render(request, "meetings/training.html", {"title": _("培训记录"), "rows": qs[:500]})



def pack(request, pk):
    """周例会材料 of one department (the person's own, or any for the coordinator and chair)."""
    from matters.models import Matter

    from .pack import department_pack, pack_xlsx

    meeting = _meeting(request, pk)
    perms = MeetingPermissions(request.user, meeting)
    raw = request.GET.get("department") or ""
    allowed = Department.objects.all() if perms.can_manage else Department.objects.filter(pk__in=perms.department_ids)
    department = allowed.filter(pk=raw).first() if raw.isdigit() else allowed.filter(pk=request.user.department_id).first()
    if department is None:
        raise Http404(_("没有可查看的部门材料。"))
    data = department_pack(meeting, department, matters=Matter.objects.visible_to(request.user))
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(pack_xlsx(data),
                                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        response["Content-Disposition"] = f'attachment; filename="pack-{meeting.pk}-{department.pk}.xlsx"'
        return response
    return render(request, "meetings/pack.html", {"title": _("周例会材料"), "meeting": meeting, "pack": data})
