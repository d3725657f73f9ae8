"""The home page: editable quick links and featured items; feature apps add panels by hook."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from wagtail import hooks
from wagtail.admin.panels import FieldPanel
from wagtail.fields import StreamField
from wagtail.models import Page

from .blocks import HomeBodyBlock


class HomePage(Page):
    welcome = models.CharField(_("欢迎语"), max_length=200, blank=True)
    body = StreamField(HomeBodyBlock(), verbose_name=_("页面内容"), blank=True, use_json_field=True)

    content_panels = [*Page.content_panels, FieldPanel("welcome"), FieldPanel("body")]

    parent_page_types = ["wagtailcore.Page"]
    max_count = 1

    class Meta:
        verbose_name = _("首页")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        # Feature apps contribute panels (unread notices, my pending work) through a hook:
        # each returns None or {"template": ..., "order": int, **context}.
        panels = [fn(request) for fn in hooks.get_hooks("portal_home_panels")]
        context["home_panels"] = sorted((p for p in panels if p), key=lambda p: p.get("order", 100))
        return context
