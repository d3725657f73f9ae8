"""Wagtail admin viewsets of the platform (people, departments, roles, the working calendar)."""
