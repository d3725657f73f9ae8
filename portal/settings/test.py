"""Tests: fast hashing, in-memory caches, django-q2 runs tasks synchronously."""

import tempfile

from .base import *  # noqa: F403
from .base import Q_CLUSTER

SECRET_KEY = "test-only-key"  # noqa: S105
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# django-q2 reads its config at import, so "sync" must be here, not in override_settings.
Q_CLUSTER = {**Q_CLUSTER, "sync": True}
# Webhook tests run a receiver on 127.0.0.1; production refuses loopback addresses.
PORTAL_WEBHOOK_ALLOW_LOOPBACK = True
_TMP = tempfile.mkdtemp(prefix="portal-test-")
MEDIA_ROOT = f"{_TMP}/media"
PRIVATE_MEDIA_ROOT = f"{_TMP}/private"
STORAGES = {  # noqa: F405
    **STORAGES,  # noqa: F405
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_MEDIA_ROOT, "base_url": None},
    },
}
AXES_ENABLED = True
LOGGING = {"version": 1, "disable_existing_loggers": False}
