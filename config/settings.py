"""KHM settings: one file, driven by environment variables.

SQLite is the embedded default; ``DB=postgres`` switches to PostgreSQL with the usual
``PGHOST``/``PGPORT``/``PGDATABASE``/``PGUSER``/``PGPASSWORD`` variables.
Secrets (``KHM_SECRET_KEY``, ``KHM_FIELD_KEY``, ``KHM_LOOKUP_KEY``) come from the
environment or a local ``.env`` file that ``make`` writes once with random values and git
ignores; they are never in the repository.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def _read_dotenv(path: Path) -> None:
    if not path.exists():
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _sep, value = line.partition("=")
        os.environ.setdefault(key.strip(), value.strip())


_read_dotenv(Path(os.environ.get("KHM_ENV_FILE", BASE_DIR / ".env")))


def env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise RuntimeError(f"Missing setting {name}: put it in the environment or in .env (make writes one).")
    return value


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, "1" if default else "0").lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("KHM_DEBUG", False)
SECRET_KEY = env("KHM_SECRET_KEY")
# Field encryption key for national IDs (32 bytes, urlsafe base64) and the separate key of
# the keyed hash used for exact lookup. Rotating FIELD_KEY needs a re-encryption command;
# LOOKUP_KEY must stay stable for the lifetime of the data.
KHM_FIELD_KEY = env("KHM_FIELD_KEY")
KHM_LOOKUP_KEY = env("KHM_LOOKUP_KEY")

ALLOWED_HOSTS = [h for h in env("KHM_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("KHM_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "khm.core",
    "khm.areas",
    "khm.accounts",
    "khm.audit",
    "khm.registry",
    "khm.sources",
    "khm.assessment",
    "khm.fieldwork",
    "khm.referrals",
    "khm.livelihoods",
    "khm.forums",
    "khm.insights",
    "khm.api",
    "khm.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "khm.core.middleware.ThaiFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "khm.accounts.middleware.DeclaredAccessMiddleware",
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
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "khm.accounts.context_processors.access",
            ],
            "builtins": ["khm.core.templatetags.khm", "khm.accounts.templatetags.access"],
        },
    }
]

if os.environ.get("DB", "sqlite") == "postgres":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": env("PGDATABASE", "khm"),
            "USER": env("PGUSER", "khm"),
            "PASSWORD": env("PGPASSWORD", ""),
            "HOST": env("PGHOST", "127.0.0.1"),
            "PORT": env("PGPORT", "5432"),
            "CONN_MAX_AGE": 60,
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env("KHM_SQLITE_PATH", str(BASE_DIR / "var" / "khm.sqlite3")),
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                # 128 MB page cache per connection: imports write hundreds of thousands of rows
                # into tables with random-key indexes (codes, ID hashes); with the default
                # 2 MB cache every insert pages index nodes in and out.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-131072;",
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"  # routes each role to its start page
LOGOUT_REDIRECT_URL = "accounts:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "th"
LANGUAGES = [("th", _("Thai")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Bangkok"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "var" / "static"
WHITENOISE_USE_FINDERS = True

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("KHM_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"

# Logs never carry personal data: we log codes and ids, never names or national IDs, and
# request logging is limited to method, path (no query strings: search terms are personal) and status.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"no_query": {"()": "khm.core.logging.StripQueryStringFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["no_query"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("KHM_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

KHM_PAGE_SIZE = 50
# Uploaded source files, kept by content hash (personal data: protect this folder).
KHM_IMPORT_DIR = os.environ.get("KHM_IMPORT_DIR", str(BASE_DIR / "var" / "imports"))
# Field photos (personal data: served only through a scoped view, never as /media/ URLs).
MEDIA_ROOT = os.environ.get("KHM_MEDIA_DIR", str(BASE_DIR / "var" / "media"))
MEDIA_URL = "/media-not-served/"
# Largest photo accepted from the phone (the app resizes to 1280 px before upload).
KHM_PHOTO_MAX_BYTES = int(os.environ.get("KHM_PHOTO_MAX_BYTES", str(3 * 1024 * 1024)))
# Notifications of referrals (off by default). E-mail uses Django's EMAIL_* settings; LINE
# uses the Messaging API push endpoint with a channel access token.
KHM_NOTIFY_EMAIL = env_bool("KHM_NOTIFY_EMAIL", False)
KHM_NOTIFY_LINE = env_bool("KHM_NOTIFY_LINE", False)
KHM_LINE_API_URL = os.environ.get("KHM_LINE_API_URL", "https://api.line.me/v2/bot/message/push")
KHM_LINE_CHANNEL_TOKEN = os.environ.get("KHM_LINE_CHANNEL_TOKEN", "")
KHM_NOTIFY_TIMEOUT = float(os.environ.get("KHM_NOTIFY_TIMEOUT", "5"))
KHM_BASE_URL = os.environ.get("KHM_BASE_URL", "http://127.0.0.1:8000")
EMAIL_BACKEND = os.environ.get("KHM_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("KHM_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("KHM_EMAIL_PORT", "25"))
DEFAULT_FROM_EMAIL = os.environ.get("KHM_EMAIL_FROM", "khm@localhost")
KHM_ATTACHMENT_MAX_BYTES = int(os.environ.get("KHM_ATTACHMENT_MAX_BYTES", str(10 * 1024 * 1024)))
# Progress files of long jobs (counts only; khm/core/progress.py).
KHM_PROGRESS_DIR = os.environ.get("KHM_PROGRESS_DIR", str(BASE_DIR / "var" / "progress"))
# Run big imports (staging, commit) in a background thread of the web process and show
# their progress; off: the request waits (tests, the management command and the API).
KHM_BACKGROUND_JOBS = env_bool("KHM_BACKGROUND_JOBS", True)
# Pre-aggregated figures (khm.insights): "background" refreshes the changed areas after each
# write in a thread; "manual" leaves it to `manage.py refresh_insights` (tests, benchmarks).
KHM_INSIGHTS_REFRESH = os.environ.get("KHM_INSIGHTS_REFRESH", "background")
# Open data: counts below this are published as "<N" (docs/insights.md).
KHM_OPEN_DATA_MIN_CELL = int(os.environ.get("KHM_OPEN_DATA_MIN_CELL", "10"))
# The online base map's tiles ({z}/{x}/{y}); empty hides the switch (the boundaries work offline).
KHM_MAP_TILES = os.environ.get("KHM_MAP_TILES", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
# Files of at least this many bytes (or batches of at least this many rows / 100) go to
# the background; smaller ones finish within the request.
KHM_BACKGROUND_MIN_BYTES = int(os.environ.get("KHM_BACKGROUND_MIN_BYTES", "200000"))
