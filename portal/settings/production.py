"""Production: every secret from the environment; start-up fails clearly without them."""

from .base import *  # noqa: F403
from .env import env_bool, env_int, env_required

DEBUG = False
SECRET_KEY = env_required("SECRET_KEY", "set it to a long random string shared by every web and worker process")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
# Cookies only over HTTPS; SECURE_COOKIES=false is for a plain-HTTP test stack on loopback.
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "SAMEORIGIN"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600)

# HSTS preload only makes sense for public domains on the browsers' preload list; an intranet
# host is not, so the preload warning is silenced unless SECURE_HSTS_PRELOAD is switched on.
# X_FRAME_OPTIONS stays SAMEORIGIN because Wagtail's live preview shows pages in an iframe.
SILENCED_SYSTEM_CHECKS = ["security.W019"] + ([] if SECURE_HSTS_PRELOAD else ["security.W021"])
