"""Making notices in tests, benchmarks and scripts: one through Wagtail's publish, or thousands
at once straight into the tables (for query-count and load measurements)."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone

from wagtail.models import Locale, Page, Revision

from .models import NoticeCategory, NoticeIndexPage, NoticePage


def notice_index() -> NoticeIndexPage:
    from .demo import ensure_index

    return ensure_index()


def make_notice(*, user=None, departments=(), roles=(), people=(), publish=True, **fields) -> NoticePage:
    """Create (and by default publish) a notice through Wagtail, like an editor would."""
    from portal.models import Department

    index = notice_index()
    fields.setdefault("title", "测试通告")
    fields.setdefault("slug", f"notice-{NoticePage.objects.count() + 1}-{timezone.now().strftime('%H%M%S%f')}")
    if "issuing_department" not in fields:
        fields["issuing_department"] = Department.objects.order_by("pk").first()
    if "category" not in fields:
        fields["category"] = NoticeCategory.objects.order_by("sort_order").first()
    fields.setdefault("audience_everyone", not (departments or roles or people))
    fields.setdefault("live", False)  # as the admin creates pages; publishing makes it live
    fields.setdefault("body", [{"type": "paragraph", "value": "<p>正文</p>"}])
    notice = NoticePage(**fields)
    index.add_child(instance=notice)
    notice.audience_departments.set(list(departments))
    notice.audience_roles.set(list(roles))
    notice.audience_people.set(list(people))
    revision = notice.save_revision(user=user)
    if publish:
        revision.publish(user=user)
    notice.refresh_from_db()
    return notice


def publish_edit(notice: NoticePage, *, user=None, reconfirm: bool = False, **changes) -> NoticePage:
    """An editor's later edit, published; ``reconfirm`` ticks “需重新确认”."""
    notice = NoticePage.objects.get(pk=notice.pk).get_latest_revision_as_object()
    for name, value in changes.items():
        setattr(notice, name, value)
    notice.reconfirm_requested = reconfirm
    notice.save_revision(user=user).publish(user=user)
    return NoticePage.objects.get(pk=notice.pk)


def bulk_notices(count: int, *, department_ids=(), everyone: bool = True, **fields) -> list[int]:
    """Insert ``count`` live notices directly (pages, notice rows, one revision each). Thousands
    take seconds instead of minutes; only for measuring, never for real content."""
    from portal.models import Department

    index = notice_index()
    category = fields.pop("category", None) or NoticeCategory.objects.order_by("sort_order").first()
    issuing = fields.pop("issuing_department", None) or Department.objects.order_by("pk").first()
    ct = ContentType.objects.get_for_model(NoticePage)
    page_ct = ContentType.objects.get_for_model(Page)
    locale = Locale.objects.order_by("pk").first()
    now = timezone.now()
    start = index.numchild
    with transaction.atomic():
        pages = []
        for i in range(count):
            slug = f"bulk-{start + i + 1}"
            pages.append(
                Page(
                    title=f"批量通告 {start + i + 1}",
                    draft_title=f"批量通告 {start + i + 1}",
                    slug=slug,
                    content_type=ct,
                    path=Page._get_path(index.path, index.depth + 1, start + i + 1),
                    depth=index.depth + 1,
                    numchild=0,
                    url_path=f"{index.url_path}{slug}/",
                    live=True,
                    has_unpublished_changes=False,
                    first_published_at=now,
                    last_published_at=now,
                    locale=locale,
                )
            )
        Page.objects.bulk_create(pages, batch_size=500)
        ids = list(
            Page.objects.filter(path__in=[p.path for p in pages]).order_by("path").values_list("pk", flat=True)
        )
        revisions = Revision.objects.bulk_create(
            [
                Revision(
                    content_type=ct, base_content_type=page_ct, object_id=str(pk), content={}, created_at=now
                )
                for pk in ids
            ],
            batch_size=500,
        )
        rev_by_page = {int(r.object_id): r.pk for r in revisions}
        if None in rev_by_page.values():  # backends without RETURNING on bulk insert
            rev_by_page = dict(
                Revision.objects.filter(object_id__in=[str(pk) for pk in ids], content_type=ct).values_list(
                    "object_id", "pk"
                )
            )
            rev_by_page = {int(k): v for k, v in rev_by_page.items()}
        values = {
            "issuing_department_id": issuing.pk,
            "category_id": category.pk,
            "summary": "",
            "body": [],
            "audience_everyone": everyone,
            "pinned_until": None,
            "requires_confirmation": False,
            "confirm_deadline": None,
            "reconfirm_requested": False,
            "version": 1,
            "version_started_at": now,
            **fields,
        }
        columns = ["page_ptr_id", "version_revision_id", *values.keys()]
        table = NoticePage._meta.db_table
        sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 - names from the model, values bound
            connection.ops.quote_name(table),
            ", ".join(connection.ops.quote_name(c) for c in columns),
            ", ".join(["%s"] * len(columns)),
        )
        field_for = {f.column: f for f in NoticePage._meta.local_concrete_fields}
        rows = []
        for pk in ids:
            row = [pk, rev_by_page[pk]]
            for column, value in values.items():
                row.append(field_for[column].get_db_prep_save(value, connection))
            rows.append(row)
        with connection.cursor() as cursor:
            cursor.executemany(sql, rows)
        if not everyone and department_ids:
            through = NoticePage.audience_departments.through
            through.objects.bulk_create(
                [through(noticepage_id=pk, department_id=d) for pk in ids for d in department_ids], batch_size=1000
            )
        Page.objects.filter(pk=index.pk).update(numchild=start + count)
    return ids
