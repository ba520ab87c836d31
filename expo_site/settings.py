"""Settings for the expo delegation records site.

Every value that differs between a developer's machine and production is read from
the environment (see `.env.example`). Development defaults are safe: DEBUG is on only
when asked for, the database is an SQLite file beside the project, and a missing
SECRET_KEY is refused outside DEBUG.
"""

from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local `.env` is a convenience for developers; the process environment wins.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

# Development may run without a secret; production must be given one.
_DEV_SECRET = "django-insecure-development-only-key-never-use-in-production"
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET if DEBUG else "")
if not SECRET_KEY:
    raise environ.ImproperlyConfigured(
        "SECRET_KEY is not set. Set it in the environment (or DEBUG=1 for development)."
    )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

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
    "delegations",
    "deals",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
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
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
