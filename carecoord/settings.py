"""carecoord settings: one module, driven by environment variables (see docs/operators/configuration.md).

Defaults suit a developer machine (PostgreSQL and Redis on 127.0.0.1). With DEBUG off the
process refuses to start without a real SECRET_KEY.
"""

from __future__ import annotations

from pathlib import Path

import django_stubs_ext
from celery.schedules import crontab

from carecoord.config import Config, ConfigurationError

django_stubs_ext.monkeypatch()  # lets admin.ModelAdmin[Model] and friends be subscripted at run time

BASE_DIR = Path(__file__).resolve().parent.parent
config = Config()

DEVELOPMENT_SECRET_KEY = "carecoord-development-only-not-secret"  # noqa: S105 - refused below when DEBUG is off

DEBUG = config.flag("DEBUG", default=False)
SECRET_KEY = config.text("SECRET_KEY", default=DEVELOPMENT_SECRET_KEY if DEBUG else "")
if not DEBUG and (not SECRET_KEY or SECRET_KEY == DEVELOPMENT_SECRET_KEY):
    raise ConfigurationError("SECRET_KEY must be set to a long random value when DEBUG is off")
if not DEBUG and len(SECRET_KEY) < 50:
    raise ConfigurationError("SECRET_KEY must be at least 50 characters when DEBUG is off")

ALLOWED_HOSTS = config.items("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = config.items("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = config.text("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "django_htmx",
    "carecoord.apps.CarecoordConfig",
    "referrals",
    "handoffs",
    "toxicity",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "carecoord.urls"
WSGI_APPLICATION = "carecoord.wsgi.application"
ASGI_APPLICATION = "carecoord.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "toxicity.context_processors.open_alerts",
            ],
        },
    },
]

DATABASES = {
    "default": {
        **config.db_url("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/carecoord"),
        "CONN_MAX_AGE": config.number("DATABASE_CONN_MAX_AGE", default=60, minimum=0),
        "CONN_HEALTH_CHECKS": True,
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = config.redis_url("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
    }
}

AUTH_USER_MODEL = "carecoord.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# django-guardian: no anonymous user row; grants live in direct foreign-key tables.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = Path(config.text("MEDIA_ROOT", default=str(BASE_DIR / "var" / "media")))
MEDIA_URL = "media/"  # never served directly: documents are downloaded through an access-checked view
REFERRAL_DOCUMENT_MAX_MB = config.number("REFERRAL_DOCUMENT_MAX_MB", default=20, minimum=1)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Email: every outgoing message goes through Django's mail machinery (Django 6.1 MAILERS).
_email_backend = config.text("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
_smtp_options = {
    "host": config.text("EMAIL_HOST", default="127.0.0.1"),
    "port": config.number("EMAIL_PORT", default=1025, minimum=1),
    "username": config.text("EMAIL_HOST_USER", default=""),
    "password": config.text("EMAIL_HOST_PASSWORD", default=""),
    "use_tls": config.flag("EMAIL_USE_TLS", default=False),
    "timeout": config.number("EMAIL_TIMEOUT", default=10, minimum=1),
}
MAILERS = {
    "default": {
        "BACKEND": _email_backend,
        "OPTIONS": _smtp_options if _email_backend.endswith("smtp.EmailBackend") else {},
    }
}
# A row claimed this long ago whose worker never finished is taken back by the sweeper; a row
# still pending after the grace period was lost by the broker and is queued again.
EMAIL_SENDING_TIMEOUT_SECONDS = config.number("EMAIL_SENDING_TIMEOUT_SECONDS", default=300, minimum=1)
EMAIL_PENDING_GRACE_SECONDS = config.number("EMAIL_PENDING_GRACE_SECONDS", default=60, minimum=1)
DEFAULT_FROM_EMAIL = config.text("DEFAULT_FROM_EMAIL", default="carecoord <no-reply@carecoord.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Celery: Redis broker; tasks take ids and are idempotent (see STYLE.md).
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = config.text("CELERY_QUEUE", default="carecoord")
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    "refresh-membership-access": {
        "task": "carecoord.tasks.refresh_membership_access",
        # Memberships start and end on dates in the site's time zone; a quarter-hourly pass
        # applies those boundaries soon after local midnight in every zone.
        "schedule": crontab(minute="*/15"),
    },
    "sweep-emails": {"task": "carecoord.tasks.sweep_emails", "schedule": 60.0},
    "escalate-toxicity-alerts": {"task": "toxicity.tasks.escalate_alerts", "schedule": 60.0},
    "remind-unacknowledged-handoffs": {"task": "handoffs.tasks.remind_unacknowledged_handoffs", "schedule": 300.0},
    "remind-unacknowledged-referrals": {
        "task": "referrals.tasks.remind_unacknowledged_referrals",
        "schedule": 300.0,
    },
    # Each person's digest time is local to their site; a quarter-hourly pass reaches every
    # zone's hour, and one that is missed is caught up later the same week.
    "send-weekly-digests": {"task": "carecoord.tasks.send_weekly_digests", "schedule": crontab(minute="*/15")},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so that an anonymous request gets 401 with WWW-Authenticate.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "carecoord.api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "carecoord API",
    "DESCRIPTION": "Shared CAR-T care between academic centers and community practices.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models call their choices `kind`: name each enum after its model.
    "ENUM_NAME_OVERRIDES": {
        "SiteKindEnum": "carecoord.models.sites.Site.Kind",
        "DocumentKindEnum": "referrals.models.ReferralDocument.Kind",
        "TimelineKindEnum": "carecoord.models.timeline.TimelineEntry.Kind",
        "PreparationKindEnum": "referrals.milestone_kinds.PreparationKind",
        "ToxicityKindEnum": "toxicity.models.ToxicityKind",
        "TreatmentKindEnum": "toxicity.models.ToxicityTreatment.Kind",
        # Referrals and hand-offs both have a `state`: the referral's keeps the name it had
        # (its model choices are STATE_LABELS' (value, label) pairs).
        "StateEnum": "referrals.workflow.STATE_LABELS.items",
        "HandoffStateEnum": "handoffs.models.Handoff.State",
        "HandoffFieldTypeEnum": "handoffs.schema.FIELD_TYPES",
    },
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LOG_LEVEL = config.text("LOG_LEVEL", default="INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # WeasyPrint narrates every PDF at INFO; only its problems belong in the log.
    "loggers": {name: {"level": "WARNING"} for name in ("weasyprint", "fontTools")},
}
