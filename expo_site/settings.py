"""Settings for the expo delegation records site.

Every value that differs between a developer's machine and production is read from
the environment (see `.env.example`). Development defaults are safe: DEBUG is on only
when asked for, the database is an SQLite file beside the project, and a missing
SECRET_KEY is refused outside DEBUG.
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local `.env` is a convenience for developers; the process environment wins.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

# Development may run without a secret; production must be given one.
# Only with DEBUG on; `check --deploy` refuses its prefix.
_DEV_SECRET = "django-insecure-development-only-key-never-use-in-production"  # nosec B105
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET if DEBUG else "")
if not SECRET_KEY:
    raise environ.ImproperlyConfigured(
        "SECRET_KEY is not set. Set it in the environment (or DEBUG=1 for development)."
    )

# Rotating the secret (docs/operations.md): the new key becomes SECRET_KEY, the old one
# moves here for as long as the sessions and signed links made with it should last.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# How many proxies stand before the site (0: none, the client is REMOTE_ADDR). Behind
# them the client's address is read from the X-Forwarded-For they append, never from
# the one a client sends: the API's throttling and the admin's login lockout both count
# per address, and both use this (see `expo_site.clientip`).
NUM_PROXIES = env.int("NUM_PROXIES", default=0)

# HTTPS. Production (DEBUG off) is served over HTTPS only: every switch below defaults
# to on there and off in development, where `make run` serves plain http on 127.0.0.1.
# `manage.py check --deploy` passes with the production defaults (tests/test_deploy.py).
_PRODUCTION = not DEBUG
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=_PRODUCTION)
# Load balancers probe over plain http: the health endpoint answers them directly.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# Behind a proxy that ends TLS, the request reaches the site over http; the proxy says
# the original scheme in a header (set by the proxy, overwriting any a client sent).
# Only then is the header trusted: without a proxy a client could claim https.
_PROXY_SSL_HEADER = env.str(
    "SECURE_PROXY_SSL_HEADER", default="HTTP_X_FORWARDED_PROTO" if NUM_PROXIES else ""
)
SECURE_PROXY_SSL_HEADER = (_PROXY_SSL_HEADER, "https") if _PROXY_SSL_HEADER else None
# A year of HSTS once the site is known to work over HTTPS; 0 turns it off.
SECURE_HSTS_SECONDS = env.int(
    "SECURE_HSTS_SECONDS", default=365 * 24 * 60 * 60 if _PRODUCTION else 0
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=_PRODUCTION)
# Only the header's `preload` token: the domain joins browsers' preload lists only when
# its owner submits it there.
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=_PRODUCTION)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Cookies: sent over HTTPS only in production, never readable by scripts, not sent
# along with requests from other sites' pages.
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=_PRODUCTION)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=_PRODUCTION)
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# A staff session lasts a working day, not Django's two weeks, and ends with the browser.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 60 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_countries",
    "django_filters",
    "import_export",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "axes",
    "csp",
    "delegations",
    "deals",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves the static files itself, compressed and cached for good (docs/operations.md).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Answers the public headline pages from the cache before the rest runs
    # (deals/page_cache.py).
    "deals.page_cache.PublicPageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "expo_site.middleware.SiteLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Records who made each change through the admin into the model histories.
    "simple_history.middleware.HistoryRequestMiddleware",
    # The Content-Security-Policy header on every response.
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: answers a locked-out login with its page.
    "axes.middleware.AxesMiddleware",
]

# django-axes first: it refuses a locked-out login before a password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "expo_site.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "delegations.context_processors.languages",
            ],
        },
    },
]

WSGI_APPLICATION = "expo_site.wsgi.application"

# With no DATABASE_URL: an SQLite file that git ignores. Production sets
# DATABASE_URL=postgres://user:password@host:5432/name (psycopg 3).
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Wait for a concurrent writer rather than failing at once.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("timeout", 20)

# The cache holds the computed headline figures. It must be shared by every process and
# server of the site, because a change of records made through one refreshes the figures
# for all: by default a table in the site's database (created by its migrations); Redis
# or memcached with e.g. CACHE_URL=redis://host:6379/1.
CACHES = {
    "default": env.cache_url("CACHE_URL", default="dbcache://expo_cache"),
    # The API's request counts per client (throttling). By default each process counts
    # its own, at no cost to the database; set it to the Redis or memcached that the
    # servers share to count across them.
    "throttle": env.cache_url("THROTTLE_CACHE_URL", default="locmemcache://expo-throttle"),
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login throttling (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one
# username from one client address, that pair is refused for AXES_COOLOFF_MINUTES. The
# address is the real client's behind the proxies (NUM_PROXIES), as for the API's
# throttling: the proxy's own address would lock every staff member out at once.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "expo_site.clientip.client_ip"
AXES_LOCKOUT_CALLABLE = "expo_site.lockout.lockout_response"
# Each attempt is in the axes tables already; no access log of every login as well.
AXES_DISABLE_ACCESS_LOG = True

# Content-Security-Policy (django-csp): scripts and styles only from the site's own
# static files, never inline, and nothing from elsewhere. The API's documentation pages
# relax it for their styles (`expo_site.apidocs`).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Staff read Chinese first; the public site is bilingual.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["expo_site.formats"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
# In production the static files are those `collectstatic` gathered, under names that
# carry a hash of their content (so browsers may cache them for good), and compressed;
# WhiteNoise serves them. Development and the tests serve them from the apps' folders
# as they are, without collectstatic (tests/conftest.py).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Hong Kong, Macao and Taiwan are regions of China, named so everywhere.
COUNTRIES_OVERRIDE = {
    "HK": _("Hong Kong, China"),
    "MO": _("Macao, China"),
    "TW": _("Taiwan, China"),
}

# Django's model permissions decide who may import and export, not staff status alone.
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
IMPORT_EXPORT_USE_TRANSACTIONS = True

# Product rules that are settings rather than code.
EXPO = {
    # An organization importing more than this per year counts as a large importer.
    "LARGE_IMPORTER_USD": env.int("EXPO_LARGE_IMPORTER_USD", default=10_000_000),
    # A public group total is withheld when fewer undisclosed agreements hide in it.
    "DISCLOSURE_THRESHOLD": env.int("EXPO_DISCLOSURE_THRESHOLD", default=3),
    # Seconds the headline figures stay cached at most. Every change of the records
    # behind them refreshes them at once; this is only a backstop.
    "STATS_CACHE_SECONDS": env.int("EXPO_STATS_CACHE_SECONDS", default=24 * 60 * 60),
    # Seconds a rendered public headline page stays cached at most (deals/page_cache.py):
    # a change of records replaces it at once; this bounds how long a new deployment's
    # templates wait for a page no record change refreshes.
    "PAGE_CACHE_SECONDS": env.int("EXPO_PAGE_CACHE_SECONDS", default=300),
    # The delegation the home page shows, by its slug.
    "DEFAULT_DELEGATION": env.str("EXPO_DEFAULT_DELEGATION", default="beijing"),
    # Spreadsheet imports: larger uploads are refused before they are read, and so are
    # sheets of more rows.
    "IMPORT_MAX_BYTES": env.int("EXPO_IMPORT_MAX_BYTES", default=20 * 1024 * 1024),
    "IMPORT_MAX_ROWS": env.int("EXPO_IMPORT_MAX_ROWS", default=1_000_000),
}

# The API (Django REST framework). Public endpoints read no credentials and are
# throttled per client address; staff ones take a token or the admin's session (never
# HTTP Basic, which would let anyone test passwords against any endpoint).
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "delegations.api.pagination.ExpoPagination",
    "DEFAULT_SCHEMA_CLASS": "delegations.api.base.ExpoAutoSchema",
    "EXCEPTION_HANDLER": "delegations.api.base.exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "public": env.str("API_PUBLIC_RATE", default="120/minute"),
        "staff": env.str("API_STAFF_RATE", default="1200/minute"),
        "token": env.str("API_TOKEN_RATE", default="10/minute"),
    },
    # How many proxies stand before the app: the client address is then read from the
    # X-Forwarded-For they set, never from the one a client sends (0: REMOTE_ADDR).
    "NUM_PROXIES": NUM_PROXIES,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Expo delegation records API",
    "DESCRIPTION": (
        "The records of the trade delegations at the China International Import Expo and "
        "the figures computed from them. Public endpoints (`/api/...`) are read-only and "
        "need no credentials; amounts a buyer has not agreed to disclose are null. Staff "
        "endpoints (`/api/staff/...`) read and write every record with a token "
        "(`Authorization: Token <key>`, from `/api/token/`) or the admin's session, as "
        "the user's staff group permits; every change is kept in the records' history. "
        "Errors are JSON: a `detail` sentence, a `code` and the `errors` of each field."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "delegations.api.base.describe_everything",
    ],
    "ENUM_NAME_OVERRIDES": {
        "OrganizationKindEnum": "delegations.models.OrganizationKind",
        "RegistrationStatusEnum": "delegations.models.RegistrationStatus",
        "AgreementKindEnum": "deals.models.AgreementKind",
        "AgreementStatusEnum": "deals.models.AgreementStatus",
        "PledgeStatusEnum": "deals.models.PledgeStatus",
        "IntentionStageEnum": "deals.models.IntentionStage",
    },
}

# Logs go to stderr: one JSON object a line in production (LOG_FORMAT=json, the default
# without DEBUG), for the log collector; plain lines in development. Imports and
# publications log an `event` with its fields (docs/operations.md).
LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "datefmt": "%Y-%m-%dT%H:%M:%S%z",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            "json_ensure_ascii": False,
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # django-axes says it started at every start of every process.
        "axes.apps": {"level": "WARNING"},
    },
}
