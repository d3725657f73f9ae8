"""Template context every front-end page needs: navigation with badges and the user's standing."""

from django.utils.functional import SimpleLazyObject

from .nav import nav_items


def portal(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "portal_nav": SimpleLazyObject(lambda: nav_items(request)),
        "user_without_department": user.department_id is None and not user.is_superuser,
    }
