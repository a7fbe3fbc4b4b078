"""One env-driven settings file. Every setting has a safe default for the embedded mode."""

import os
import re
import warnings
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("RATIONALE_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, "1" if default else "0").strip().lower() in {
        "1",
        "true",
        "yes",
        "on",
    }


DEBUG = env_bool("DJANGO_DEBUG")
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set unless DJANGO_DEBUG=1.")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "csp",
    "template_partials",
    "annotate",
    "metajudge",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "config.middleware.RejectNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "config.context_processors.roles",
                "csp.context_processors.nonce",
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'rationale_audit.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL + a busy timeout let the web process and the worker share the file. IMMEDIATE: a
    # transaction takes the write lock when it begins, so a second writer waits out the
    # timeout instead of failing at once with "database is locked" (SQLite cannot wait when a
    # read transaction tries to become a write one after another process wrote).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            # 16 KB pages (taken only by a new file): a HelpSteer3 pair is about 25 KB of text,
            # which 4 KB pages split into a chain of seven; an import of 22,116 pairs ran about
            # 8% faster (bench/label_studio_import.py).
            "init_command": (
                "PRAGMA page_size=16384; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
            ),
            "transaction_mode": "IMMEDIATE",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_MAX_FAILURES = int(os.environ.get("LOGIN_MAX_FAILURES", "10"))
LOGIN_FAILURE_WINDOW = int(os.environ.get("LOGIN_FAILURE_WINDOW", "900"))  # seconds
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["CACHE_URL"],
        }
        if os.environ.get("CACHE_URL")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
# collectstatic creates STATIC_ROOT; until then (development) whitenoise would warn on every
# start that it is missing. Importing settings creates no folder (config/runtime.py does).
warnings.filterwarnings("ignore", message="No directory at: " + re.escape(str(STATIC_ROOT)))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 100,
    "URL_FORMAT_OVERRIDE": None,  # ?format= names an export format here
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("API_ANON_RATE_LIMIT", "60/minute"),
        # A training loop calls /reward hundreds of times a second: keep the per-user cap high.
        "user": os.environ.get("API_RATE_LIMIT", "2000000/hour"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Rationale Audit API",
    "VERSION": "1.0.0",
    "DESCRIPTION": "Checklists, judgments and MetaJudge results.",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Celery: the embedded default is kombu's filesystem transport, so no broker server is needed.
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
    if CELERY_BROKER_URL.startswith("filesystem")
    else {"visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600"))}
)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER")
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "celery")
CELERY_LLM_QUEUE = os.environ.get("CELERY_LLM_QUEUE", "llm")
CELERY_TASK_ROUTES = ("config.celery.route_task",)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]

# An endpoint's concurrency and rate limit hold across every worker process and host when they
# live in Redis (metajudge/llm/limits.py): by default whenever the broker or the cache is Redis.
# "" (the embedded default: filesystem broker, one worker) keeps them in the process.
LLM_LIMITS_URL = os.environ.get(
    "LLM_LIMITS_URL",
    next(
        (
            url
            for url in (CELERY_BROKER_URL, os.environ.get("CACHE_URL", ""))
            if url.startswith(("redis://", "rediss://", "unix://"))
        ),
        "",
    ),
)

OPENAI_BASE_URL = os.environ.get("OPENAI_BASE_URL", "")
OPENAI_API_KEY_ENV = "OPENAI_API_KEY"
# Names (or fnmatch patterns) of environment variables an endpoint may take its key from.
JUDGE_API_KEY_ENV_ALLOWED = tuple(
    p.strip()
    for p in os.environ.get("JUDGE_API_KEY_ENV_ALLOWED", "*_API_KEY,OPENAI_API_KEY").split(",")
    if p.strip()
)

# MetaJudge reference settings (see metajudge/method/scoring.py).
METAJUDGE_MAX_CHECKLIST_LEN = int(os.environ.get("METAJUDGE_MAX_CHECKLIST_LEN", "10"))
METAJUDGE_PRECISION_CAP = int(os.environ.get("METAJUDGE_PRECISION_CAP", "5"))
# Re-asks after an answer that breaks the format: the reference's --max-retries 5 asks at most
# five times, i.e. four re-asks. The last answer is kept and scored by the metric rules.
METAJUDGE_FORMAT_RETRIES = int(os.environ.get("METAJUDGE_FORMAT_RETRIES", "4"))
# Samples with no model atoms or more than the maximum: the reference asks them (the metric
# rules then skip them, or count a malformed answer as an error). 1: skip them without a call.
METAJUDGE_SKIP_UNSCORABLE = env_bool("METAJUDGE_SKIP_UNSCORABLE")
METAJUDGE_MAX_ATTEMPTS = int(os.environ.get("METAJUDGE_MAX_ATTEMPTS", "5"))
METAJUDGE_BACKOFF_BASE = float(os.environ.get("METAJUDGE_BACKOFF_BASE", "0.5"))
# Claims: a holder renews its claims every lease / 4 while it works, so only a dead holder's
# claims expire, after this many seconds; only the current holder may write a result.
METAJUDGE_CLAIM_LEASE = int(os.environ.get("METAJUDGE_CLAIM_LEASE", "900"))
METAJUDGE_CHUNK_SIZE = int(os.environ.get("METAJUDGE_CHUNK_SIZE", "256"))
# Chunk size = max(METAJUDGE_CHUNK_SIZE, concurrency x rounds), with rounds chosen so that
# rounds x METAJUDGE_CALL_SECONDS <= lease / 4: a chunk of calls that take that long ends within a
# quarter of the lease, and (checked below: lease <= 2 x visibility timeout) within half of the
# broker's visibility timeout, so a live chunk is neither taken over nor redelivered.
METAJUDGE_CALL_SECONDS = float(os.environ.get("METAJUDGE_CALL_SECONDS", "4"))
METAJUDGE_MAX_CHUNK_ROUNDS = 64
_visibility = CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout")
if _visibility and METAJUDGE_CLAIM_LEASE > 2 * _visibility:
    raise ImproperlyConfigured(
        f"METAJUDGE_CLAIM_LEASE ({METAJUDGE_CLAIM_LEASE} s) must be at most twice "
        f"CELERY_VISIBILITY_TIMEOUT ({_visibility} s): chunks are sized to end within a quarter "
        "of the lease"
    )

# The reward API's LLM matcher: fresh judge questions per user per window (cache hits are free).
REWARD_LLM_QUOTA = int(os.environ.get("REWARD_LLM_QUOTA", "10000"))
REWARD_LLM_QUOTA_WINDOW = int(os.environ.get("REWARD_LLM_QUOTA_WINDOW", "86400"))  # seconds

IMPORT_MAX_LINE_BYTES = int(os.environ.get("IMPORT_MAX_LINE_BYTES", str(16 * 1024 * 1024)))
IMPORT_MAX_UPLOAD_BYTES = int(os.environ.get("IMPORT_MAX_UPLOAD_BYTES", str(512 * 1024 * 1024)))
IMPORT_MAX_DECOMPRESSED_BYTES = int(
    os.environ.get("IMPORT_MAX_DECOMPRESSED_BYTES", str(2 * 1024 * 1024 * 1024))
)
FILE_UPLOAD_MAX_MEMORY_SIZE = 4 * 1024 * 1024  # larger uploads spool to a temporary file

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts and styles from this origin only, an inline one
# only with the response's nonce, no eval (htmx's allowEval is off in base.html), no framing.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
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
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    # Secure by default; each can be turned off for a plain-HTTP local deployment.
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

# Behind how many reverse proxies of ours the app runs. Only then are X-Forwarded-Proto (is
# the request HTTPS?) and X-Forwarded-For (the client's address, for the login brake and the
# API's anonymous throttle) believed: without a proxy any client could set them.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
if TRUSTED_PROXY_COUNT > 0:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
REST_FRAMEWORK["NUM_PROXIES"] = TRUSTED_PROXY_COUNT

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Every configured key's value is cut out of every log line (metajudge/llm/keys.py).
    "filters": {"redact_keys": {"()": "metajudge.llm.keys.RedactKeysFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact_keys"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # One line per HTTP call would drown the worker's log (and cost time at 300 calls/s).
    "loggers": {name: {"level": "WARNING"} for name in ("httpx", "httpcore", "openai")},
}
