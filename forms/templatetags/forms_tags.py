"""Template helpers for form pages."""

from django import template

register = template.Library()


@register.filter
def condition_for(form, name):
    """``{"field": key, "values": [...]}`` when the field is shown only on a condition."""
    getter = getattr(form, "condition_attrs", None)
    return getter(name) if getter else None
