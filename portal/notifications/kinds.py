"""The kinds of notification, gathered from the ``portal_notification_kinds`` Wagtail hook.

Each app registers ``fn() -> list[(code, label, mandatory)]``. Mandatory kinds (escalations)
cannot be turned off by the people who receive them; a kind nobody registered is treated as
optional, labelled with its code.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from wagtail import hooks


@dataclass(frozen=True)
class Kind:
    code: str
    label: str
    mandatory: bool = False


DIGEST_DAILY = "digest.daily"
SYSTEM_TEST = "system.test"
SYSTEM_WELCOME = "system.welcome"

PLATFORM_KINDS = [
    (DIGEST_DAILY, _("每日待办摘要"), False),
    (SYSTEM_WELCOME, _("系统消息"), False),
]


def registered_kinds() -> dict[str, Kind]:
    kinds: dict[str, Kind] = {}
    for fn in hooks.get_hooks("portal_notification_kinds"):
        for code, label, mandatory in fn() or []:
            kinds[code] = Kind(code, str(label), bool(mandatory))
    return kinds


def get_kind(code: str) -> Kind:
    return registered_kinds().get(code) or Kind(code, code, False)
