"""carecoord settings: one module, driven by environment variables (see docs/operators/configuration.md).

Defaults suit a developer machine (PostgreSQL and Redis on 127.0.0.1). With DEBUG off the
process refuses to start without a real SECRET_KEY.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import django_stubs_ext
from celery.schedules import crontab
from django.utils.csp import CSP

from carecoord.config import Config, ConfigurationError, sentinel_broker_url

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
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "carecoord.apps.CarecoordConfig",
    "audit.apps.AuditConfig",
    "referrals",
    "handoffs",
    "labs",
    "education",
    "toxicity",
    "infections",
    "candidates",
    "workspace",
    "metrics",
    "calendars",
    "fhir_api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "carecoord.accounts.sessions.SessionTimeoutMiddleware",
    "carecoord.accounts.middleware.RequireSecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "carecoord.web.caching.NoStoreMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "audit.middleware.AuditContextMiddleware",
    # Last, as django-axes asks: it turns a lockout raised during sign-in into its page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
FORM_RENDERER = "carecoord.web.form_renderer.FormRenderer"
ASGI_APPLICATION = "config.asgi.application"

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
        # Behind PgBouncer in transaction pooling a server-side cursor (the audit trail's
        # streamed export) would outlive the transaction its connection was lent for.
        "DISABLE_SERVER_SIDE_CURSORS": config.flag("DATABASE_TRANSACTION_POOLING", default=False),
    }
}
# A streaming replica for the reads that may be a few seconds behind (digest builds, the audit
# trail): carecoord/reports_database.py.
if config.raw("DATABASE_REPORTS_URL"):
    DATABASES["reports"] = {
        **DATABASES["default"],
        **config.db_url("DATABASE_REPORTS_URL", default=""),
        "TEST": {"MIRROR": "default"},
    }
REPORTS_DATABASE = "reports" if "reports" in DATABASES else "default"
DATABASE_ROUTERS = ["carecoord.reports_database.ReportsRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = config.redis_url("REDIS_URL", default="redis://127.0.0.1:6379/0")
# Redis made available by Sentinel (docs/operators/scaling.md): the Sentinels name the primary;
# REDIS_URL then gives only its password and database (carecoord/redis_sentinel.py).
REDIS_SENTINELS = config.items("REDIS_SENTINELS", default=[])
REDIS_SENTINEL_MASTER = config.text("REDIS_SENTINEL_MASTER", default="carecoord")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
    }
}
if REDIS_SENTINELS:
    CACHES["default"]["BACKEND"] = "carecoord.redis_sentinel.SentinelRedisCache"

AUTH_USER_MODEL = "carecoord.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a sign-in while its username and address are cooling off.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sign-in throttling (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one email from
# one address, that pair waits AXES_COOLOFF_MINUTES; nothing is locked for good.
AXES_FAILURE_LIMIT = config.number("AXES_FAILURE_LIMIT", default=5, minimum=1)
AXES_COOLOFF_TIME = dt.timedelta(minutes=config.number("AXES_COOLOFF_MINUTES", default=15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_USERNAME_FORM_FIELD = "username"
AXES_VERBOSE = False
AXES_CLIENT_IP_CALLABLE = "carecoord.accounts.client_ip.client_ip"
# Behind reverse proxies, how many of them append to X-Forwarded-For (0: use the peer address).
TRUSTED_PROXY_COUNT = config.number("TRUSTED_PROXY_COUNT", default=0, minimum=0)

# Second factor (django-otp): the issuer name authenticator apps show next to the code.
OTP_TOTP_ISSUER = config.text("OTP_TOTP_ISSUER", default="carecoord")
# The admin never shows an authenticator's secret key or QR code, not even to site administrators.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# After this many wrong second-factor codes for one person within 24 hours, codes are refused
# until the oldest is a day old, whatever the delay (carecoord.accounts.wrong_codes).
SECOND_FACTOR_WRONG_CODES_PER_DAY = config.number("SECOND_FACTOR_WRONG_CODES_PER_DAY", default=10, minimum=1)

# Sessions end after SESSION_IDLE_TIMEOUT_MINUTES without a request, and in any case
# SESSION_MAX_AGE_HOURS after signing in (carecoord.accounts.sessions).
SESSION_IDLE_TIMEOUT_SECONDS = 60 * config.number("SESSION_IDLE_TIMEOUT_MINUTES", default=15, minimum=1)
SESSION_ABSOLUTE_TIMEOUT_SECONDS = 3600 * config.number("SESSION_MAX_AGE_HOURS", default=12, minimum=1)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_TIMEOUT_SECONDS
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

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
# The lists' pages count their rows up to this many ("more than 500"; carecoord.web.list_forms).
LIST_COUNT_CAP = config.number("LIST_COUNT_CAP", default=500, minimum=50)

# Email: every outgoing message goes through Django's mail machinery (Django 6.1 MAILERS).
_email_backend = config.text("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
_smtp_timeout = config.number("EMAIL_TIMEOUT", default=10, minimum=1)
_smtp_options = {
    "host": config.text("EMAIL_HOST", default="127.0.0.1"),
    "port": config.number("EMAIL_PORT", default=1025, minimum=1),
    "username": config.text("EMAIL_HOST_USER", default=""),
    "password": config.text("EMAIL_HOST_PASSWORD", default=""),
    "use_tls": config.flag("EMAIL_USE_TLS", default=False),
    "timeout": _smtp_timeout,
}
MAILERS = {
    "default": {
        "BACKEND": _email_backend,
        "OPTIONS": _smtp_options if _email_backend.endswith("smtp.EmailBackend") else {},
    }
}
# An email is retried, backing off up to every five minutes, for this long before it counts as
# failed: as long as a same-day alert matters (carecoord.emails).
EMAIL_RETRY_HOURS = config.number("EMAIL_RETRY_HOURS", default=24, minimum=1)
# The first retry comes after this many seconds, each next one after twice as long, up to the
# longest delay: a relay that is back is used within that delay.
EMAIL_RETRY_FIRST_SECONDS = config.number("EMAIL_RETRY_FIRST_SECONDS", default=5, minimum=1)
EMAIL_RETRY_LONGEST_SECONDS = config.number("EMAIL_RETRY_LONGEST_SECONDS", default=300, minimum=1)
# A worker's claim on a row it is sending lapses after this, if it died meanwhile: another
# worker then takes the row over. Longer than one SMTP conversation can take.
EMAIL_LEASE_SECONDS = config.number("EMAIL_LEASE_SECONDS", default=3 * _smtp_timeout, minimum=2)
if _smtp_timeout >= EMAIL_LEASE_SECONDS:
    raise ConfigurationError(
        f"EMAIL_LEASE_SECONDS: must be longer than EMAIL_TIMEOUT ({_smtp_timeout} s), got {EMAIL_LEASE_SECONDS}"
    )
# A row still pending after the grace period was lost by the broker (or its retry is late) and
# is queued again by the sweeper.
EMAIL_PENDING_GRACE_SECONDS = config.number("EMAIL_PENDING_GRACE_SECONDS", default=60, minimum=1)
# An alert email not delivered this long after it was written is shown in the app (patient
# page, dashboard) and counts against /health/.
EMAIL_UNDELIVERED_WARNING_MINUTES = config.number("EMAIL_UNDELIVERED_WARNING_MINUTES", default=5, minimum=1)
DEFAULT_FROM_EMAIL = config.text("DEFAULT_FROM_EMAIL", default="carecoord <no-reply@carecoord.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Celery: Redis broker; tasks take ids and are idempotent (docs/architecture.md#background-work).
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = config.text("CELERY_QUEUE", default="carecoord")
# Same-day alert emails have a queue and workers of their own: a digest run never delays them.
CELERY_ALERT_QUEUE = config.text("CELERY_ALERT_QUEUE", default="carecoord-alerts")
# Queueing after commit tries the broker once, quickly: a request never waits on a broker that
# is down (the outbox row stays pending and the sweeper queues it once the broker is back).
# (max_retries 0: kombu would otherwise retry connecting for broker_connection_timeout, 4 s.)
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {"socket_connect_timeout": 0.5, "max_retries": 0}
if REDIS_SENTINELS:
    CELERY_BROKER_URL = sentinel_broker_url(REDIS_SENTINELS, REDIS_URL)
    CELERY_BROKER_TRANSPORT_OPTIONS["master_name"] = REDIS_SENTINEL_MASTER
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
    "forget-idempotency-keys": {"task": "carecoord.tasks.forget_idempotency_keys", "schedule": crontab(minute="41")},
    # A heartbeat through each queue proves a worker takes its tasks (read by /health/).
    "heartbeat": {
        "task": "carecoord.tasks.heartbeat",
        "schedule": 30.0,
        "args": [CELERY_TASK_DEFAULT_QUEUE],
        "options": {"queue": CELERY_TASK_DEFAULT_QUEUE, "expires": 30},
    },
    "heartbeat-alerts": {
        "task": "carecoord.tasks.heartbeat",
        "schedule": 30.0,
        "args": [CELERY_ALERT_QUEUE],
        "options": {"queue": CELERY_ALERT_QUEUE, "expires": 30},
    },
    "escalate-toxicity-alerts": {"task": "toxicity.tasks.escalate_alerts", "schedule": 60.0},
    "remind-unacknowledged-handoffs": {"task": "handoffs.tasks.remind_unacknowledged_handoffs", "schedule": 300.0},
    "remind-unacknowledged-referrals": {
        "task": "referrals.tasks.remind_unacknowledged_referrals",
        "schedule": 300.0,
    },
    # A phase moves with the calendar when a planned step's day arrives (referrals.phase): the
    # patients with a step dated around today every quarter hour, everyone nightly.
    "refresh-phases": {"task": "referrals.tasks.refresh_phases", "schedule": crontab(minute="7,22,37,52")},
    "refresh-all-phases": {
        "task": "referrals.tasks.refresh_phases",
        "schedule": crontab(hour="3", minute="17"),
        "kwargs": {"everyone": True},
    },
    # A candidate standing changes as days pass: a relapse window closes, a birthday comes
    # (candidates.standings).
    "refresh-candidate-standings": {
        "task": "candidates.tasks.refresh_candidate_standings",
        "schedule": crontab(minute="27"),
    },
    # Files kept from referral forms that came back with errors and were never saved.
    "delete-stale-pending-uploads": {
        "task": "referrals.tasks.delete_stale_pending_uploads",
        "schedule": crontab(minute="53"),
    },
    # Each person's digest time is local to their site; a quarter-hourly pass reaches every
    # zone's hour, and one that is missed is caught up later the same week.
    "send-weekly-digests": {"task": "workspace.tasks.send_weekly_digests", "schedule": crontab(minute="*/15")},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so that an anonymous request gets 401 with WWW-Authenticate.
        "carecoord.api.authentication.ApiTokenAuthentication",
        "carecoord.api.authentication.VerifiedSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # In a browser, the raw JSON form only: DRF's HTML forms list a relation's every object.
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "carecoord.api.renderers.BrowsableAPIWithoutForms",
    ],
    "DEFAULT_PAGINATION_CLASS": "carecoord.api.pagination.ListPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "carecoord.api.filters.AskedFiltersBackend",  # django-filter's, skipped when nothing is asked
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "carecoord.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "carecoord.api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "carecoord API",
    "DESCRIPTION": "Shared CAR-T care between academic centers and community practices.",
    "VERSION": "1.3.0",
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
        "PreparationKindEnum": "referrals.milestones.kinds.PreparationKind",
        "ToxicityKindEnum": "toxicity.models.ToxicityKind",
        "ProphylaxisKindEnum": "infections.models.ProphylaxisItem.Kind",
        "TreatmentKindEnum": "toxicity.models.ToxicityTreatment.Kind",
        "LabKindEnum": "labs.kinds.LabKind",
        # Referrals and hand-offs both have a `state`: the referral's keeps the name it had
        # (its model choices are STATE_LABELS' (value, label) pairs).
        "StateEnum": "referrals.workflow.STATE_LABELS.items",
        "HandoffStateEnum": "handoffs.models.Handoff.State",
        "HandoffFieldTypeEnum": "handoffs.schema.FIELD_TYPES",
        "EducationAudienceEnum": "education.models.Audience",
        # An event's status and outcome are in its summary and in the event: named as before.
        "ToxicityEventStatusEnum": "toxicity.models.ToxicityEvent.Status",
        "ToxicityEventOutcomeEnum": "toxicity.models.ToxicityEvent.Outcome",
        "TransplantCandidacyStatusEnum": "candidates.models.TransplantCandidacy.Status",
        "DrugClassEnum": "candidates.drug_classes.DrugClass",
        "BestResponseEnum": "candidates.models.BestResponse",
    },
}

# Transport and browser hardening (docs/SECURITY.md). With DEBUG off, `manage.py check --deploy`
# reports nothing. Behind a TLS-terminating proxy set SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = config.flag("SECURE_SSL_REDIRECT", default=not DEBUG)
# A load balancer probes /health/ over plain HTTP inside the deployment.
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
_proxy_ssl_header = config.text("SECURE_PROXY_SSL_HEADER", default="")
SECURE_PROXY_SSL_HEADER = (_proxy_ssl_header, "https") if _proxy_ssl_header else None
SECURE_HSTS_SECONDS = config.number("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = config.flag("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = config.flag("SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content Security Policy: scripts, styles and images from this origin only; no inline code.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

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
