"""Puts the inbox with its unread count into the front-end navigation."""

from django.urls import reverse
from django.utils.translation import gettext as _

from wagtail import hooks

from portal.nav import NavItem

from .models import Notification


@hooks.register("portal_nav_items")
def inbox_nav_item(request):
    unread = Notification.objects.for_user(request.user).unread().count()
    return NavItem(_("站内信"), reverse("notifications:inbox"), order=90, badge=unread or None)
