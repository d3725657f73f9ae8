"""The in-app inbox (站内信): list, open and mark as read."""

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from .models import Notification
from .services import mark_read


def inbox(request):
    qs = Notification.objects.for_user(request.user)
    if request.GET.get("unread"):
        qs = qs.unread()
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(request, "notifications/inbox.html", {"page": page, "only_unread": bool(request.GET.get("unread"))})


def open_notification(request, pk: int):
    note = get_object_or_404(Notification.objects.for_user(request.user), pk=pk)
    if note.read_at is None:
        Notification.objects.filter(pk=note.pk).update(read_at=timezone.now())
    target = note.url if url_has_allowed_host_and_scheme(note.url, allowed_hosts={request.get_host()}) else ""
    return redirect(target or "notifications:inbox")


@require_POST
def mark_all_read(request):
    mark_read(request.user)
    return redirect("notifications:inbox")


def preferences(request):
    """Per kind of notification: inbox and/or email. Mandatory kinds are shown, locked on."""
    from django.contrib import messages
    from django.utils.translation import gettext as _

    from .services import preference_rows, set_preferences

    rows = preference_rows(request.user)
    if request.method == "POST":
        choices = {
            row["kind"].code: (
                f"{row['kind'].code}:inbox" in request.POST,
                f"{row['kind'].code}:email" in request.POST,
            )
            for row in rows
            if not row["kind"].mandatory
        }
        set_preferences(request.user, choices)
        messages.success(request, _("通知偏好已保存。"))
        return redirect("notifications:preferences")
    return render(
        request,
        "notifications/preferences.html",
        {"rows": rows, "has_email": bool(request.user.email)},
    )
