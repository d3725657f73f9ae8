"""Front-end views of matters: 我的提交 (list and detail), comment, add a file, withdraw,
and the permission-checked download of private attachments."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wagtail import hooks

from . import services
from .forms import AttachmentForm, CommentForm, WithdrawForm
from .models import Attachment, Matter, MatterEvent, MatterStatus

FILTERS = {
    "open": (_("办理中"), lambda qs: qs.open()),
    "closed": (_("已结束"), lambda qs: qs.closed()),
    "all": (_("全部"), lambda qs: qs),
}


def my_submissions(request):
    current = request.GET.get("status", "all")
    if current not in FILTERS:
        current = "all"
    qs = FILTERS[current][1](Matter.objects.submitted_by(request.user).with_related())
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    return render(
        request,
        "matters/my_submissions.html",
        {
            "title": _("我的提交"),
            "page_obj": page,
            "matters": page.object_list,
            "filters": [(key, label) for key, (label, _fn) in FILTERS.items()],
            "current": current,
        },
    )


def _visible_matter(request, pk) -> Matter:
    matter = Matter.objects.visible_to(request.user).with_related().filter(pk=pk).first()
    if matter is None:
        raise Http404(_("事项不存在或您无权查看。"))
    return matter


def detail(request, pk, comment_form=None, attachment_form=None):
    matter = _visible_matter(request, pk)
    events = (
        MatterEvent.objects.filter(matter=matter)
        .select_related("actor")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("pk")))
    )
    panels = [fn(request, matter) for fn in hooks.get_hooks("matters_detail_panels")]
    return render(
        request,
        "matters/matter_detail.html",
        {
            "title": matter.reference,
            "matter": matter,
            "events": events,
            "attachments": matter.attachments.select_related("uploaded_by"),
            "panels": sorted((p for p in panels if p), key=lambda p: p.get("order", 100)),
            "comment_form": comment_form or CommentForm(),
            "attachment_form": attachment_form or AttachmentForm(),
            "withdraw_form": WithdrawForm(),
            "can_withdraw": matter.can_withdraw(request.user) and matter.can_be_withdrawn,
            "can_add_files": matter.status != MatterStatus.ARCHIVED,
        },
    )


@require_POST
def comment(request, pk):
    matter = _visible_matter(request, pk)
    form = CommentForm(request.POST)
    if not form.is_valid():
        return detail(request, pk, comment_form=form)
    try:
        services.add_comment(matter, request.user, form.cleaned_data["text"])
    except services.MatterActionError as exc:
        form.add_error("text", str(exc))
        return detail(request, pk, comment_form=form)
    messages.success(request, _("留言已添加。"))
    return redirect(matter.get_absolute_url() + "#history")


@require_POST
def attach(request, pk):
    matter = _visible_matter(request, pk)
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        return detail(request, pk, attachment_form=form)
    try:
        services.add_attachment(matter, request.user, form.cleaned_data["file"], text=form.cleaned_data["text"])
    except services.MatterActionError as exc:
        form.add_error("file", str(exc))
        return detail(request, pk, attachment_form=form)
    messages.success(request, _("附件已上传。"))
    return redirect(matter.get_absolute_url() + "#history")


@require_POST
def withdraw(request, pk):
    matter = _visible_matter(request, pk)
    form = WithdrawForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.withdraw(matter, request.user, reason=reason)
    except services.MatterActionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已撤回 %s。") % matter.reference)
    return redirect(matter.get_absolute_url())


def can_download(user, attachment: Attachment) -> bool:
    if Matter.objects.visible_to(user).filter(pk=attachment.matter_id).exists():
        return True
    # Editors who may see a form's submissions in the admin may open their files too.
    page_id = attachment.matter.source_page_id
    if page_id and user.is_staff:
        from wagtail.contrib.forms.utils import get_forms_for_user

        return get_forms_for_user(user).filter(pk=page_id).exists()
    return False


def attachment(request, pk):
    item = get_object_or_404(Attachment.objects.select_related("matter"), pk=pk)
    if not can_download(request.user, item):
        raise PermissionDenied(_("您无权下载此附件。"))
    try:
        handle = item.file.open("rb")
    except FileNotFoundError:
        raise Http404(_("文件已不存在。"))
    response = FileResponse(
        handle,
        as_attachment=request.GET.get("inline") != "1" or not item.content_type.startswith("image/"),
        filename=item.original_name,
        content_type=item.content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
