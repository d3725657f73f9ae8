"""紧急事项: duty rosters, emergency reports on clock milestones, paging, timeline and review."""
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EmergenciesConfig(AppConfig):
    name = "emergencies"
    verbose_name = _("紧急事项")
    default_auto_field = "django.db.models.BigAutoField"
