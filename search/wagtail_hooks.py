"""Registers search with the platform: the 搜索 navigation link, the company dictionary in the
admin, the built-in providers and the nightly rebuild."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from wagtail import hooks
from wagtail.admin.viewsets.model import ModelViewSet

from portal.nav import NavItem
from portal.schedules import ScheduleSpec

from .models import SearchTerm
from .providers import GenericPageProvider
from .providers.content import content_providers


@hooks.register("portal_nav_items")
def search_nav_item(request):
    return NavItem(label=str(_("搜索")), url=reverse("search:search"), order=90, icon="search")


class SearchTermViewSet(ModelViewSet):
    model = SearchTerm
    icon = "search"
    menu_label = _("搜索词典")
    menu_order = 900
    add_to_settings_menu = True
    list_display = ["word", "category", "weight", "note", "updated_at"]
    list_filter = ["category"]
    search_fields = ["word", "note"]
    list_export = ["word", "category", "weight", "note"]
    form_fields = ["word", "category", "weight", "note"]
    ordering = ["word"]


@hooks.register("register_admin_viewset")
def register_search_terms():
    return SearchTermViewSet("search_terms")


@hooks.register("portal_search_providers")
def builtin_search_providers():
    return [*content_providers(), GenericPageProvider()]


@hooks.register("portal_seed_demo")
def seed_search_demo(log):
    from .demo import seed_search

    seed_search(log)


seed_search_demo.order = 90  # after every content app: it indexes what they created


@hooks.register("portal_schedules")
def search_schedules():
    return [
        ScheduleSpec(
            name="search.rebuild_index",
            func="search.tasks.rebuild_index",
            schedule_type="C",
            minutes=None,
            cron="30 3 * * *",
        )
    ]
