"""Front-end navigation assembled from the ``portal_nav_items`` Wagtail hook.

Feature apps register a function ``(request) -> NavItem | None`` with
``@hooks.register("portal_nav_items")``; the platform never imports them.
"""

from __future__ import annotations

from dataclasses import dataclass

from wagtail import hooks


@dataclass
class NavItem:
    label: str
    url: str
    order: int = 100
    badge: int | None = None
    icon: str = ""
    active: bool = False


def nav_items(request) -> list[NavItem]:
    items = []
    for fn in hooks.get_hooks("portal_nav_items"):
        item = fn(request)
        if item is not None:
            item.active = item.url != "/" and request.path.startswith(item.url)
            items.append(item)
    return sorted(items, key=lambda i: i.order)
