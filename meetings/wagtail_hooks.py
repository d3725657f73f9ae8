"""Meetings in the portal and the admin: navigation, notification kinds, schedules, demo data,
the meeting-type and room snippets, and the ``portal_schedule_meeting`` hook for other apps."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from wagtail import hooks
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from portal.nav import NavItem
from portal.schedules import ScheduleSpec

from . import services
from .hooks import schedule_meeting
from .models import MeetingRoom, MeetingType


class MeetingTypeViewSet(SnippetViewSet):
    model = MeetingType
    icon = "date"
    menu_label = _("会议类型")
    list_display = ["name", "code", "approver", "request_lead_days", "notice_lead_days", "minutes_hours",
                    "recur_weekday", "recur_time"]
    list_filter = ["approver", "is_training", "is_active"]


class MeetingRoomViewSet(SnippetViewSet):
    model = MeetingRoom
    icon = "home"
    menu_label = _("会议室")
    list_display = ["name", "location", "capacity", "is_active"]


class MeetingsGroup(SnippetViewSetGroup):
    items = (MeetingTypeViewSet, MeetingRoomViewSet)
    menu_label = _("协调会议")
    menu_icon = "date"
    menu_name = "meetings"


register_snippet(MeetingsGroup)


@hooks.register("portal_nav_items")
def meetings_nav(request):
    from .models import Meeting, MeetingStatus

    if not request.user.is_authenticated:
        return None
    badge = Meeting.objects.filter(status=MeetingStatus.REQUESTED, approver_user=request.user).count()
    return NavItem(label=str(_("会议")), url=reverse("meetings:index"), order=45, badge=badge or None)


@hooks.register("portal_notification_kinds")
def meetings_notification_kinds():
    return [
        (services.KIND_REQUEST, _("会议申请待审批"), False),
        (services.KIND_DECIDED, _("会议申请审批结果"), False),
        (services.KIND_NOTICE, _("会议通知"), True),
        (services.KIND_CHANGED, _("会议改期/取消"), True),
        (services.KIND_MINUTES, _("会议纪要"), False),
        (services.KIND_MINUTES_OVERDUE, _("会议纪要逾期"), True),
        (services.KIND_DECISION_OVERDUE, _("会议决议逾期上报"), True),
        (services.KIND_WEEKLY, _("督办周报"), False),
    ]


@hooks.register("portal_schedules")
def meetings_schedules():
    return [
        ScheduleSpec(name="meetings.ensure_standing_meetings", func="meetings.tasks.ensure_standing_meetings",
                     minutes=60),
        ScheduleSpec(name="meetings.send_weekly_packs", func="meetings.tasks.send_weekly_packs", minutes=60),
        ScheduleSpec(name="meetings.remind_minutes", func="meetings.tasks.remind_minutes", minutes=15),
        ScheduleSpec(name="meetings.escalate_overdue_decisions", func="meetings.tasks.escalate_overdue_decisions",
                     minutes=60),
        ScheduleSpec(name="meetings.send_weekly_report", func="meetings.tasks.send_weekly_report",
                     schedule_type="C", minutes=None,
                     cron=getattr(settings, "MEETINGS_WEEKLY_CRON", "0 8 * * 1")),
    ]


@hooks.register("portal_seed_demo")
def seed_meetings(log):
    from .demo import seed_meetings as run

    run(log)


seed_meetings.order = 60  # after matters (30) — its decisions are matters — and before search indexes (90)


hooks.register("portal_schedule_meeting", schedule_meeting)


LOG_ACTIONS = [
    ("request", "会议申请", "提交了会议申请"),
    ("schedule", "会议安排", "会议已安排并通知参会人"),
    ("refuse", "不予批准", "会议申请未获批准"),
    ("move", "会议改期", "会议已改期"),
    ("cancel", "会议取消", "会议已取消"),
    ("respond", "参会答复", "参会人已答复"),
    ("sign_in", "签到", "参会人已签到"),
    ("sign_in_refused", "签到被拒", "签到未通过"),
    ("mark_attendance", "登记签到", "秘书登记了签到"),
    ("agenda_submit", "提交议题", "提交了议题"),
    ("agenda_arrange", "整理议程", "整理了议程"),
    ("minutes_save", "保存纪要", "保存了会议纪要"),
    ("minutes_submit", "提交纪要", "纪要已提交会签"),
    ("minutes_sign_off", "会签纪要", "部门已会签纪要"),
    ("minutes_publish", "发布纪要", "纪要已审批发布"),
    ("minutes_correct", "更正纪要", "发布了纪要更正版本"),
    ("minutes_read", "纪要已阅", "参会人确认已阅"),
    ("decision_close", "决议完成", "决议已关闭"),
    ("decision_escalate", "决议逾期上报", "逾期决议已上报分管领导"),
    ("feed_renew", "日历订阅地址", "生成了新的日历订阅地址"),
    ("feed_revoke", "作废日历订阅", "作废了日历订阅地址"),
]


@hooks.register("register_log_actions")
def register_meeting_actions(actions):
    for code, label, message in LOG_ACTIONS:
        actions.register_action(f"meetings.{code}", _(label), _(message))  # noqa: INT001
