"""Connects Wagtail's publish signal to the service that keeps notice versions."""

from wagtail.signals import page_published


def _on_publish(sender, instance, revision=None, **kwargs):
    from wagtail.log_actions import get_active_log_context

    from .services import record_publication

    # The publisher when published from the admin; the revision's author for scheduled go-live.
    user = get_active_log_context().user or getattr(revision, "user", None)
    record_publication(instance, revision, user=user)


def connect():
    from .models import NoticePage

    page_published.connect(_on_publish, sender=NoticePage, dispatch_uid="notices.record_publication")
