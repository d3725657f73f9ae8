"""Login plumbing: how django-axes names the person behind a failed login."""

from __future__ import annotations


def axes_username(request, credentials: dict | None = None) -> str | None:
    """The submitted username, cut to the length a username can have (150 characters).

    django-axes stores it in a 255-character column; without the cut, a hostile 300-character
    username makes PostgreSQL refuse the insert and the login page fail with a server error.
    """
    if credentials:
        username = credentials.get("username")
    else:
        username = getattr(request, "data", request.POST).get("username")
    return username[:150] if isinstance(username, str) else username
