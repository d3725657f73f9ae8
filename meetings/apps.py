"""协调会议与决议督办: meeting types, requests, notices, agenda, sign-in, minutes, decisions."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeetingsConfig(AppConfig):
    name = "meetings"
    verbose_name = _("协调会议")
    default_auto_field = "django.db.models.BigAutoField"
