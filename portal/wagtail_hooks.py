"""Registers the platform's admin: organisation menu, calendar warning on the dashboard."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wagtail import hooks
from wagtail.admin.ui.components import Component

from portal.admin_views.organisation import OrganisationGroup
from portal.services.calendar import missing_years


@hooks.register("register_admin_viewset")
def register_organisation():
    return OrganisationGroup()


class CalendarWarningPanel(Component):
    name = "calendar_warning"
    template_name = "portal/admin/calendar_warning_panel.html"
    order = 10

    def __init__(self, years):
        self.years = years

    def get_context_data(self, parent_context=None):
        return {"years": self.years}


@hooks.register("construct_homepage_panels")
def add_calendar_warning(request, panels):
    years = missing_years(timezone.localdate())
    if years:
        panels.insert(0, CalendarWarningPanel(years))


@hooks.register("register_log_actions")
def register_portal_log_actions(actions):
    actions.register_action("portal.import_workdays", _("导入工作日历"), _("导入工作日历"))
