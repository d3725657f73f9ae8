"""Reads of notices: what is current, what a person may see, what they have not read yet.

Everything is annotation and subquery, so a list of any length costs the same few queries.
"""

from __future__ import annotations

from django.db.models import BooleanField, Case, Exists, F, OuterRef, Q, Value, When
from django.utils import timezone

from wagtail.models import PageManager, PageQuerySet

from .audience import audience_q


class NoticePageQuerySet(PageQuerySet):
    def current(self):
        """Published and not past its expiry time (even before Wagtail's expiry job has run)."""
        now = timezone.now()
        return self.live().filter(Q(expire_at__isnull=True) | Q(expire_at__gt=now))

    def visible_to(self, user):
        """Notices whose audience includes ``user`` (does not check live; chain ``current()``)."""
        if user is None or not user.is_authenticated:
            return self.none()
        return self.filter(audience_q(user))

    for_user = visible_to

    def with_reader_state(self, user):
        """Annotate ``is_confirmed``, ``is_viewed``, ``is_unread`` and ``is_pinned_now`` for ``user``.

        Unread means: not confirmed, for a notice that asks for confirmation; not opened, for
        one that does not. Both against the notice's current version."""
        from .models import NoticeReceipt, NoticeView

        now = timezone.now()
        confirmed = NoticeReceipt.objects.filter(notice_id=OuterRef("pk"), user_id=user.pk, version=OuterRef("version"))
        viewed = NoticeView.objects.filter(notice_id=OuterRef("pk"), user_id=user.pk, version=OuterRef("version"))
        return self.annotate(
            is_confirmed=Exists(confirmed),
            is_viewed=Exists(viewed),
        ).annotate(
            is_unread=Case(
                When(Q(requires_confirmation=True, is_confirmed=False), then=Value(True)),
                When(Q(requires_confirmation=False, is_viewed=False), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            ),
            is_pinned_now=Case(
                When(pinned_until__gt=now, then=Value(True)), default=Value(False), output_field=BooleanField()
            ),
        )

    def unread_by(self, user):
        return self.with_reader_state(user).filter(is_unread=True)

    def reading_order(self):
        """Unread first, pinned first within that, newest first. Needs ``with_reader_state``."""
        return self.order_by(
            F("is_unread").desc(),
            F("is_pinned_now").desc(),
            F("first_published_at").desc(nulls_last=True),
            "-pk",
        )

    def for_listing(self):
        return self.select_related("issuing_department", "category").defer_streamfields()

    def needing_confirmation(self):
        return self.current().filter(requires_confirmation=True, version__gt=0)


NoticePageManager = PageManager.from_queryset(NoticePageQuerySet)
