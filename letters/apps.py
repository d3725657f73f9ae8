"""部门间函件: numbered letters, 签发 approval, 签收 and reply, GB/T 9704 PDF archive."""
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LettersConfig(AppConfig):
    name = "letters"
    verbose_name = _("部门间函件")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import signals

        signals.connect()
