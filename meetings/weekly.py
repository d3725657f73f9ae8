"""督办周报: sent every Monday (cron in settings ``MEETINGS_WEEKLY_CRON``) to the leaders and the
coordinator, by inbox and email, with a link to the page and its XLSX."""

from __future__ import annotations

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.models import Role
from portal.models.people import users_with_role
from portal.notifications.services import notify

from . import reports
from .models import Decision


def recipients():
    people = list(users_with_role(Role.SUPERVISING_LEADER)) + list(users_with_role(Role.GENERAL_MANAGER))
    people += list(users_with_role(Role.COORDINATOR))
    return list({p.pk: p for p in people}.values())


def send_weekly_report(today=None) -> int:
    today = today or timezone.localdate()
    report = reports.weekly_report(Decision.objects.all(), today)
    overdue = sum(r["overdue"] for r in report)
    due = sum(r["due"] for r in report)
    done = sum(r["done"] for r in report)
    lines = [f"{r['department']}：到期 {r['due']}，完成 {r['done']}，逾期 {r['overdue']}" for r in report if r["open"] or r["due"]]
    with transaction.atomic():
        return notify(
            recipients(), kind="meeting.weekly_report", event_key=f"meetings:weekly:{today.isoformat()}",
            title=_("督办周报（%(d)s）：本周到期 %(due)d，完成 %(done)d，逾期 %(over)d") % {
                "d": today.isoformat(), "due": due, "done": done, "over": overdue},
            body="\n".join(lines) + "\n" + _("XLSX：%s") % (reverse("meetings:weekly") + "?format=xlsx"),
            url=reverse("meetings:weekly"),
        )
