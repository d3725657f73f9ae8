"""App configs for the platform and for Wagtail's user admin with our extra fields."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from wagtail.users.apps import WagtailUsersAppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("平台")
    default_auto_field = "django.db.models.BigAutoField"


class PortalUsersAppConfig(WagtailUsersAppConfig):
    user_viewset = "portal.admin_views.users.PortalUserViewSet"
