"""Writing matters: open, comment, attach files, change status, withdraw.

Every function runs in ``transaction.atomic``, locks the matter row, checks the actor's
permission and the matter's state, records a ``MatterEvent`` and a Wagtail audit-log entry,
and raises ``MatterActionError`` (a ``PermissionDenied`` for "not allowed", a
``WrongState`` for "not in this state") with a Chinese message the views show as is.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wagtail.log_actions import log

from .models import (
    TRANSITIONS,
    Attachment,
    EventKind,
    Matter,
    MatterEvent,
    MatterStatus,
    Urgency,
)
from .references import DEFAULT_PATTERN, next_reference
from .signals import matter_opened, matter_status_changed
from .uploads import DEFAULT_ALLOWED, DEFAULT_MAX_MB, check_upload, parse_types

MAX_COMMENT_LENGTH = 5000


class MatterActionError(Exception):
    """Base of the errors services raise; ``str(error)`` is the Chinese message."""


class NotAllowed(MatterActionError, PermissionDenied):
    pass


class WrongState(MatterActionError):
    pass


class InvalidInput(MatterActionError):
    pass


def _lock(matter: Matter) -> Matter:
    """Re-read the matter under a row lock so concurrent actions see each other's result."""
    locked = Matter.objects.select_for_update().get(pk=matter.pk)
    matter.status = locked.status
    return locked


def _audit(matter: Matter, action: str, actor, data: dict | None = None) -> None:
    log(instance=matter, action=action, user=actor, title=str(matter)[:255], data=data or {})


def open_matter(
    *,
    title: str,
    submitter,
    reference: str | None = None,
    reference_pattern: str = DEFAULT_PATTERN,
    reference_prefix: str = "SX",
    source_page=None,
    submitter_department=None,
    urgency: str = Urgency.MEDIUM,
    text: str = "",
    data: dict[str, Any] | None = None,
    source: str = "manual",
    when: datetime | None = None,
) -> Matter:
    """Create a matter in status 已提交 with its first history event.

    ``reference`` is used as given, or issued from ``reference_pattern`` / ``reference_prefix``
    (gap-free; the counter stays locked until the caller's transaction commits). Sends
    ``matter_opened`` on commit.
    """
    if not getattr(submitter, "is_authenticated", False) or not submitter.is_active:
        raise NotAllowed(_("请先登录。"))
    title = (title or "").strip()[:200] or _("（无标题）")
    if urgency not in Urgency.values:
        raise InvalidInput(_("紧急程度只能是高、中、低。"))
    when = when or timezone.now()
    # No savepoint of its own: a failure here must fail the caller's whole transaction anyway.
    with transaction.atomic(savepoint=False):
        if reference is None:
            reference = next_reference(reference_pattern, prefix=reference_prefix, when=when)
        matter = Matter.objects.create(
            reference=reference,
            title=title,
            source_page=source_page,
            submitter=submitter,
            # The id, not the object: no extra query for the submitter's department.
            submitter_department_id=submitter_department.pk
            if submitter_department is not None
            else submitter.department_id,
            urgency=urgency,
            status=MatterStatus.SUBMITTED,
            created_at=when,
        )
        MatterEvent.objects.create(
            matter=matter,
            kind=EventKind.CREATED,
            actor=submitter,
            text=text,
            data={"source": source, **(data or {})},
            created_at=when,
        )
        _audit(matter, "matters.open", submitter, {"reference": reference, "source": source})
        transaction.on_commit(lambda: matter_opened.send(sender=Matter, matter=matter, source=source))
    return matter


def add_comment(matter: Matter, actor, text: str) -> MatterEvent:
    text = (text or "").strip()
    if not text:
        raise InvalidInput(_("留言内容不能为空。"))
    if len(text) > MAX_COMMENT_LENGTH:
        raise InvalidInput(_("留言太长，最多 %d 个字。") % MAX_COMMENT_LENGTH)
    with transaction.atomic():
        _lock(matter)
        if not matter.can_comment(actor):
            raise NotAllowed(_("您无权在此事项下留言。"))
        event = MatterEvent.objects.create(matter=matter, kind=EventKind.COMMENT, actor=actor, text=text)
        Matter.objects.filter(pk=matter.pk).update(updated_at=timezone.now())
        _audit(matter, "matters.comment", actor, {"event": event.pk})
    return event


def store_attachment(
    matter: Matter,
    upload: UploadedFile,
    *,
    uploaded_by,
    content_type: str = "",
    event: MatterEvent | None = None,
    field_key: str = "",
) -> Attachment:
    """Save an already-checked upload to private storage. No permission check: callers are
    ``add_attachment`` and form submission, which have checked both."""
    attachment = Attachment(
        matter=matter,
        event=event,
        field_key=field_key,
        original_name=(upload.name or "file")[-255:],
        size=upload.size,
        content_type=content_type or getattr(upload, "content_type", "") or "",
        sha256=Attachment.digest(upload),
        uploaded_by=uploaded_by,
    )
    attachment.file.save(upload.name, upload, save=False)
    stored = _stored_files.get()
    if stored is not None:
        stored.append((attachment.file.storage, attachment.file.name))
    attachment.save()
    return attachment


_stored_files: ContextVar[list | None] = ContextVar("matters_stored_files", default=None)


@contextmanager
def files_removed_on_error():
    """Wrap a transaction that stores attachments: if it fails, the files it wrote to private
    storage are deleted again (Django has on_commit but no on_rollback). Put it outside
    ``transaction.atomic`` so the rollback has happened when the files go."""
    stored: list = []
    token = _stored_files.set(stored)
    try:
        yield
    except BaseException:
        for storage, name in stored:
            storage.delete(name)
        raise
    finally:
        _stored_files.reset(token)


def add_attachment(
    matter: Matter,
    actor,
    upload: UploadedFile,
    *,
    text: str = "",
    allowed_types: str = DEFAULT_ALLOWED,
    max_mb: int = DEFAULT_MAX_MB,
) -> Attachment:
    """A file added later (补充附件), checked by content, with a ``file_added`` event."""
    checked = check_upload_or_raise(upload, allowed_types=allowed_types, max_mb=max_mb)
    with files_removed_on_error(), transaction.atomic():
        _lock(matter)
        if not matter.can_add_files(actor):
            raise NotAllowed(_("您无权为此事项补充附件。"))
        event = MatterEvent.objects.create(
            matter=matter,
            kind=EventKind.FILE_ADDED,
            actor=actor,
            text=(text or "").strip()[:MAX_COMMENT_LENGTH],
            data={"name": upload.name, "size": upload.size},
        )
        attachment = store_attachment(
            matter, upload, uploaded_by=actor, content_type=checked.content_type, event=event
        )
        Matter.objects.filter(pk=matter.pk).update(updated_at=timezone.now())
        _audit(matter, "matters.file_added", actor, {"attachment": attachment.pk, "name": attachment.original_name})
    return attachment


def check_upload_or_raise(upload, *, allowed_types: str = DEFAULT_ALLOWED, max_mb: int = DEFAULT_MAX_MB):
    from django.core.exceptions import ValidationError

    try:
        return check_upload(upload, allowed=parse_types(allowed_types), max_bytes=max_mb * 1024 * 1024)
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages))


def change_status(
    matter: Matter,
    actor,
    new_status: str,
    *,
    text: str = "",
    data: dict[str, Any] | None = None,
    check_permission: bool = True,
    kind: str = EventKind.STATUS_CHANGE,
) -> MatterEvent:
    """Move a matter along ``TRANSITIONS``, recording the event and the audit log.

    ``check_permission=False`` is for system actors (tasks, routing rules) that have already
    decided; ``actor`` may then be None.
    """
    if new_status not in MatterStatus.values:
        raise InvalidInput(_("未知的状态：%s。") % new_status)
    with transaction.atomic():
        locked = _lock(matter)
        old_status = locked.status
        if check_permission and (actor is None or not locked.can_change_status(actor)):
            raise NotAllowed(_("您无权变更此事项的状态。"))
        if new_status not in TRANSITIONS.get(old_status, set()):
            raise WrongState(
                _("事项当前为“%(old)s”，不能变为“%(new)s”。")
                % {"old": MatterStatus(old_status).label, "new": MatterStatus(new_status).label}
            )
        now = timezone.now()
        Matter.objects.filter(pk=matter.pk).update(status=new_status, updated_at=now)
        matter.status = new_status
        matter.updated_at = now
        event = MatterEvent.objects.create(
            matter=matter,
            kind=kind,
            actor=actor,
            text=(text or "").strip()[:MAX_COMMENT_LENGTH],
            data={"from": old_status, "to": new_status, **(data or {})},
            created_at=now,
        )
        _audit(matter, "matters.status_change", actor, {"from": old_status, "to": new_status})
        transaction.on_commit(
            lambda: matter_status_changed.send(
                sender=Matter, matter=matter, event=event, old_status=old_status, new_status=new_status, actor=actor
            )
        )
    return event


def withdraw(matter: Matter, actor, *, reason: str = "") -> MatterEvent:
    """The submitter withdraws a matter before a department has accepted it."""
    with transaction.atomic():
        locked = _lock(matter)
        if not locked.can_withdraw(actor):
            raise NotAllowed(_("只有提交人可以撤回此事项。"))
        if not locked.can_be_withdrawn:
            raise WrongState(
                _("事项已是“%(status)s”，受理后不能撤回；如需变更，请留言说明。")
                % {"status": locked.get_status_display()}
            )
        return change_status(
            matter,
            actor,
            MatterStatus.WITHDRAWN,
            text=reason,
            check_permission=False,
            kind=EventKind.WITHDRAWN,
        )
