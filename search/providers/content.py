"""Providers for the portal's own content: notices, letters, matters (with their form answers).

Each one uses the owning app's ``visible_to(user)`` unchanged, so search can never show more
than the app's own lists do. A provider whose app cannot be imported is left out (logged),
so search keeps working while an app is being replaced.
"""

from __future__ import annotations

import logging

from django.utils.html import strip_tags

from . import PageSearchProvider, SearchDocument, SearchProvider, page_text

logger = logging.getLogger(__name__)


class NoticeSearchProvider(PageSearchProvider):
    """内部通告: live, not expired, and addressed to the person (everyone, department, role, name)."""

    kind = "notice"
    label = "通告"
    order = 10
    tag = "tag-blue"

    def __init__(self):
        from notices.models import NoticePage

        self.model = NoticePage

    def get_queryset(self):
        return self.model.objects.live().select_related("issuing_department", "category")

    def build_document(self, page):
        if not page.live:
            return None
        attachments = [a.display_title for a in page.attachments.all()] if hasattr(page, "attachments") else []
        return SearchDocument(
            title=page.title,
            body="\n".join([page_text(page), *attachments]),
            date=page.first_published_at or page.last_published_at,
            url=page.url or "",
            department_id=page.issuing_department_id,
        )

    def visible_to(self, user):
        return self.model.objects.current().visible_to(user)


class LetterSearchProvider(PageSearchProvider):
    """部门间函件: signed letters; 机密 ones only for their issuing, receiving and named readers."""

    kind = "letter"
    label = "函件"
    order = 20
    tag = "tag-red"

    def __init__(self):
        from letters.models import LetterPage

        self.model = LetterPage

    def get_queryset(self):
        return self.model.objects.live().select_related("issuing_department")

    def build_document(self, letter):
        if not letter.live:
            return None
        attachments = [a.title for a in letter.attachments.all()] if hasattr(letter, "attachments") else []
        return SearchDocument(
            title=letter.title,
            body="\n".join([page_text(letter), *attachments]),
            date=letter.signed_at or letter.last_published_at or letter.first_published_at,
            url=letter.url or "",
            department_id=letter.issuing_department_id,
        )

    def visible_to(self, user):
        return self.model.objects.visible_to(user)

    def dependencies(self):
        # 签发 numbers the letter with a queryset update (no signal) and then creates its archive
        # row: refresh the letter then, so its 发文字号 is searchable.
        from letters.models import LetterArchive

        return [(LetterArchive, lambda archive: archive.letter_id)]


class MatterSearchProvider(SearchProvider):
    """事项 and the form answers that opened them: the submitter, the departments involved,
    the handler, coordinators (``Matter.objects.visible_to``)."""

    kind = "matter"
    label = "事项 / 表单"
    order = 30
    tag = "tag-amber"
    # History entries everyone who may open the matter sees on its page.
    EVENT_KINDS = ("created", "comment", "status_change", "withdrawn")

    def __init__(self):
        from matters.models import Matter

        self.model = Matter

    def get_queryset(self):
        return self.model.objects.select_related("lead_department", "submitter_department", "submitter")

    def build_document(self, matter):
        parts = [matter.reference]
        submission = getattr(matter, "form_submission", None)  # None: not opened from a form
        if submission is not None:
            parts.append(submission.page.title if submission.page_id else "")
            for row in submission.display_rows():
                if row.get("type") in ("section", "attachments"):
                    continue
                value = strip_tags(str(row.get("value", "")))
                if value:
                    parts.append(f"{row['label']}：{value}")
        events = matter.events.filter(kind__in=self.EVENT_KINDS).exclude(text="").values_list("text", flat=True)
        parts.extend(events[:200])
        return SearchDocument(
            title=f"{matter.reference} {matter.title}",
            body="\n".join(p for p in parts if p),
            date=matter.created_at,
            url=matter.get_absolute_url(),
            department_id=matter.lead_department_id or matter.submitter_department_id,
        )

    def visible_to(self, user):
        return self.model.objects.visible_to(user)

    def dependencies(self):
        from matters.models import MatterEvent

        found = [(MatterEvent, lambda event: event.matter_id)]
        try:
            from forms.models import Submission
        except ImportError:  # the forms app is optional to matters
            return found
        return [*found, (Submission, lambda submission: submission.matter_id)]


def content_providers() -> list[SearchProvider]:
    found = []
    for cls in (NoticeSearchProvider, LetterSearchProvider, MatterSearchProvider):
        try:
            found.append(cls())
        except (ImportError, AttributeError) as exc:
            logger.warning("search: %s left out: %s", cls.__name__, exc)
    return found
