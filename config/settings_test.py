"""Test settings: the real settings, with only what tests must not do switched off."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-" + "k" * 60)
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")

from config.settings import *  # noqa: F403

# Hashing passwords slowly protects real accounts, not test fixtures.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests talk plain HTTP to the test client and the live server.
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_SSL_REDIRECT = False
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
# Serve static files from the source folders; tests never run collectstatic.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
