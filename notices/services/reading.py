"""Writes for notices: publication versions, 已阅 receipts and views."""

from __future__ import annotations

import datetime as dt
import json

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wagtail.log_actions import get_active_log_context, log
from wagtail.models import Page, PageLogEntry, Revision

from portal.notifications.services import notify

from ..audience import audience_q, audience_users
from ..models import NoticePage, NoticeReceipt, NoticeSettings, NoticeView

ACTION_RECONFIRM = "notices.reconfirm"
ACTION_CONFIRM = "notices.confirm"
ACTION_REMIND = "notices.remind"
ACTION_REMIND_AUTO = "notices.remind_auto"
ACTION_OVERDUE = "notices.overdue_report"
ACTION_EXPORT = "notices.export"


class NoticeError(Exception):
    """A refusal with a message for the person and an HTTP status for the view."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


class ReminderTooSoon(NoticeError):
    def __init__(self, message: str, next_at: dt.datetime):
        super().__init__(message, status=429)
        self.next_at = next_at


# Publication ----------------------------------------------------------------


def record_publication(notice: NoticePage, revision: Revision | None, user=None) -> bool:
    """Called on every publish. Starts version 1 on the first one, and a new version when the
    editor ticked “需重新确认”; ordinary edits keep the version and its receipts.
    Returns True when a new version started."""
    if not notice.live:
        # Scheduled for later: Wagtail sends page_published again when it goes live.
        return False
    new_version = notice.version == 0 or (notice.reconfirm_requested and notice.requires_confirmation)
    if not new_version:
        if notice.reconfirm_requested:
            _clear_reconfirm_flag(notice, revision)
        return False
    now = timezone.now()
    with transaction.atomic():
        locked = NoticePage.objects.select_for_update().only("version").get(pk=notice.pk)
        version = locked.version + 1
        NoticePage.objects.filter(pk=notice.pk).update(
            version=version,
            version_revision_id=revision.pk if revision else None,
            version_started_at=now,
            reconfirm_requested=False,
        )
        notice.version, notice.version_started_at = version, now
        notice.version_revision_id = revision.pk if revision else None
        _clear_reconfirm_flag(notice, revision)
        if version > 1:
            log(
                instance=notice,
                action=ACTION_RECONFIRM,
                user=user,
                title=notice.title,
                data={"version": version, "revision": revision.pk if revision else None},
            )
        transaction.on_commit(lambda: _queue_announcement(notice.pk, version))
    return True


def _clear_reconfirm_flag(notice: NoticePage, revision: Revision | None) -> None:
    # The tick is for one publication: clear it on the page and in the revision the editor
    # will open next, so the following ordinary edit does not ask everyone again.
    notice.reconfirm_requested = False
    NoticePage.objects.filter(pk=notice.pk).update(reconfirm_requested=False)
    if revision is not None and revision.content.get("reconfirm_requested"):
        revision.content["reconfirm_requested"] = False
        Revision.objects.filter(pk=revision.pk).update(content=revision.content)


def _queue_announcement(notice_id: int, version: int) -> None:
    from django_q.tasks import async_task

    async_task("notices.tasks.announce_version", notice_id, version)


def announce_version(notice_id: int, version: int) -> int:
    """Tell the audience about a new notice or a version that needs confirming again."""
    notice = NoticePage.objects.current().filter(pk=notice_id, version=version).first()
    if notice is None:
        return 0
    if version == 1 and not NoticeSettings.load().notify_on_publish:
        return 0
    if version == 1:
        kind, event = "notice.published", "published"
        title = _("新通告：%(title)s") % {"title": notice.title}
    else:
        kind, event = "notice.reconfirm", "reconfirm"
        title = _("通告已更新，请重新确认：%(title)s") % {"title": notice.title}
    body = notice.summary or ""
    if notice.requires_confirmation:
        body = (body + "\n" if body else "") + _confirm_request_text(notice)
    return notify(
        audience_users(notice).only("pk", "is_active"),
        kind=kind,
        event_key=f"notice:{notice.pk}:rev:{version}:{event}",
        title=title,
        body=body,
        url=notice.get_url() or "",
    )


def _confirm_request_text(notice: NoticePage) -> str:
    if notice.confirm_deadline:
        deadline = timezone.localtime(notice.confirm_deadline).strftime("%m月%d日 %H:%M")
        return _("请阅读后点击“已阅”确认，截止 %(deadline)s。") % {"deadline": deadline}
    return _("请阅读后点击“已阅”确认。")


# Reading ----------------------------------------------------------------------


def confirm_notice(user, notice_id: int, revision_id, *, user_agent: str = "") -> tuple[NoticeReceipt, bool]:
    """Record 已阅 for the notice's current version. Returns (receipt, created); a second or
    concurrent click returns the first receipt unchanged. Raises NoticeError with a message."""
    if connection.vendor == "postgresql":
        receipt = _confirm_everyone_notice_pg(user, notice_id, revision_id, user_agent)
        if receipt is not None:
            return receipt, True
    notice = (
        NoticePage.objects.filter(pk=notice_id)
        .order_by()
        .defer_streamfields()
        .only(
            "title",
            "live",
            "expire_at",
            "audience_everyone",
            "requires_confirmation",
            "version",
            "version_revision_id",
            "confirm_deadline",
        )
        .first()
    )
    # Notices for everyone need no audience query: the common case costs one read.
    visible = notice is not None and (
        notice.audience_everyone or NoticePage.objects.filter(audience_q(user), pk=notice.pk).order_by().exists()
    )
    if not visible:
        raise NoticeError(_("未找到该通告，或您不在其发布范围内，无法确认已阅。"), status=404)
    if not notice.live or notice.version == 0:
        raise NoticeError(_("该通告尚未发布或已撤回，无法确认已阅。"), status=404)
    if notice.is_expired_now:
        raise NoticeError(_("该通告已过期下线，无法再确认已阅。"), status=410)
    if not notice.requires_confirmation:
        raise NoticeError(_("该通告无需确认已阅。"), status=400)
    try:
        revision_id = int(revision_id)
    except (TypeError, ValueError):
        revision_id = None
    if revision_id is None or revision_id != notice.version_revision_id:
        if revision_id and Revision.page_revisions.filter(pk=revision_id, object_id=str(notice.pk)).exists():
            raise NoticeError(_("通告内容已更新，请阅读最新版本后再确认已阅。"), status=409)
        raise NoticeError(_("确认信息无效（版本号缺失或不符），未记录。请刷新页面后重试。"), status=400)
    if connection.vendor == "postgresql":
        receipt = _insert_receipt_and_log_pg(notice, user, user_agent)
        if receipt is not None:
            return receipt, True
    else:
        try:
            with transaction.atomic():
                receipt = NoticeReceipt.objects.create(
                    notice_id=notice.pk,
                    user_id=user.pk,
                    version=notice.version,
                    revision_id=notice.version_revision_id,
                    user_agent=(user_agent or "")[:200],
                )
                _log_confirmation(notice, user, receipt)
            return receipt, True
        except IntegrityError:
            pass
    # Someone (this person, in another tab or a double click) got there first: keep theirs.
    existing = NoticeReceipt.objects.get(notice_id=notice.pk, user_id=user.pk, version=notice.version)
    return existing, False


def _confirm_everyone_notice_pg(user, notice_id, revision_id, user_agent: str) -> NoticeReceipt | None:
    """The common case in one round trip: a live, unexpired notice for everyone that asks for
    confirmation, the current version's revision id, no receipt yet. The statement checks all of
    that, inserts the receipt and its audit-log entry, and returns the receipt; anything else
    (a repeat, a targeted audience, bad input) returns None and takes the full path, which
    explains refusals."""
    try:
        revision_id = int(revision_id)
        notice_id = int(notice_id)
    except (TypeError, ValueError):
        return None
    qn = connection.ops.quote_name
    sql = (
        f"WITH n AS ("  # noqa: S608 - table names come from the models, values are bound
        f"SELECT np.page_ptr_id AS id, np.version, np.version_revision_id, p.title "
        f"FROM {qn(NoticePage._meta.db_table)} np JOIN {qn(Page._meta.db_table)} p ON p.id = np.page_ptr_id "
        f"WHERE np.page_ptr_id = %s AND p.live AND np.version > 0 AND np.requires_confirmation "
        f"AND np.audience_everyone AND np.version_revision_id = %s AND (p.expire_at IS NULL OR p.expire_at > %s)"
        f"), r AS ("
        f"INSERT INTO {qn(NoticeReceipt._meta.db_table)} (notice_id, user_id, version, revision_id, confirmed_at, user_agent) "
        f"SELECT n.id, %s, n.version, n.version_revision_id, %s, %s FROM n "
        f"ON CONFLICT ON CONSTRAINT notice_receipt_once_per_version DO NOTHING "
        f"RETURNING id, confirmed_at, version, revision_id"
        f"), l AS ("
        f"INSERT INTO {qn(PageLogEntry._meta.db_table)} (content_type_id, label, action, data, timestamp, uuid,"
        f" user_id, revision_id, content_changed, deleted, page_id) "
        f"SELECT %s, n.title, %s, jsonb_build_object('version', n.version, 'revision', n.version_revision_id),"
        f" r.confirmed_at, %s, %s, NULL, false, false, n.id FROM r CROSS JOIN n"
        f") SELECT id, confirmed_at, version, revision_id FROM r"
    )
    now = timezone.now()
    uuid = get_active_log_context().uuid
    content_type = ContentType.objects.get_for_model(NoticePage, for_concrete_model=False)
    agent = (user_agent or "")[:200]
    params = [
        notice_id, revision_id, now, user.pk, now, agent,
        content_type.pk, ACTION_CONFIRM, str(uuid) if uuid else None, user.pk,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    return NoticeReceipt(
        pk=row[0], notice_id=notice_id, user_id=user.pk, version=row[2], revision_id=row[3],
        confirmed_at=row[1], user_agent=agent,
    )


def _insert_receipt_and_log_pg(notice: NoticePage, user, user_agent: str) -> NoticeReceipt | None:
    """One statement, so one round trip and atomic on its own: insert the receipt unless this
    person already confirmed this version (ON CONFLICT … DO NOTHING keeps the first time), and
    write the audit-log entry only when the receipt was new. Returns None on a repeat."""
    qn = connection.ops.quote_name
    receipt_table, log_table = qn(NoticeReceipt._meta.db_table), qn(PageLogEntry._meta.db_table)
    sql = (
        f"WITH r AS ("  # noqa: S608 - table names come from the models, values are bound
        f"INSERT INTO {receipt_table} (notice_id, user_id, version, revision_id, confirmed_at, user_agent) "
        f"VALUES (%s, %s, %s, %s, %s, %s) "
        f"ON CONFLICT ON CONSTRAINT notice_receipt_once_per_version DO NOTHING RETURNING id, confirmed_at"
        f"), l AS ("
        f"INSERT INTO {log_table} (content_type_id, label, action, data, timestamp, uuid, user_id, revision_id,"
        f" content_changed, deleted, page_id) "
        f"SELECT %s, %s, %s, %s::jsonb, r.confirmed_at, %s, %s, NULL, false, false, %s FROM r"
        f") SELECT id, confirmed_at FROM r"
    )
    now = timezone.now()
    content_type = ContentType.objects.get_for_model(NoticePage, for_concrete_model=False)
    data = json.dumps({"version": notice.version, "revision": notice.version_revision_id})
    uuid = get_active_log_context().uuid
    params = [
        notice.pk, user.pk, notice.version, notice.version_revision_id, now, (user_agent or "")[:200],
        content_type.pk, notice.title, ACTION_CONFIRM, data, str(uuid) if uuid else None, user.pk, notice.pk,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    return NoticeReceipt(
        pk=row[0],
        notice_id=notice.pk,
        user_id=user.pk,
        version=notice.version,
        revision_id=notice.version_revision_id,
        confirmed_at=row[1],
        user_agent=(user_agent or "")[:200],
    )


def _log_confirmation(notice: NoticePage, user, receipt: NoticeReceipt) -> None:
    """The same PageLogEntry ``wagtail.log_actions.log`` writes, minus the model validation in
    ``PageLogEntry.save`` (three SELECTs to re-check foreign keys we have just used): 已阅 is
    the hot path of a read storm. The foreign keys are still enforced by the database."""
    PageLogEntry.objects.bulk_create(
        [
            PageLogEntry(
                content_type=ContentType.objects.get_for_model(NoticePage, for_concrete_model=False),
                page_id=notice.pk,
                label=notice.title,
                action=ACTION_CONFIRM,
                timestamp=receipt.confirmed_at,
                data={"version": notice.version, "revision": notice.version_revision_id},
                user_id=user.pk,
                uuid=get_active_log_context().uuid,
            )
        ]
    )


def record_view(user, notice: NoticePage) -> None:
    """Remember the first opening of this version; later openings cost one no-op insert."""
    if notice.version and user.is_authenticated:
        NoticeView.objects.bulk_create(
            [NoticeView(notice_id=notice.pk, user_id=user.pk, version=notice.version)], ignore_conflicts=True
        )


