"""Leadbridge settings, driven by environment variables.

Every variable is listed in the README with its default. With nothing set, the portal runs on
SQLite and an embedded Redis under ``var/`` (the zero-config path of ``make run``/``make test``);
``DATABASE_URL`` and ``REDIS_URL`` switch to real services.
"""

import os
import re
import secrets
import sys
import zoneinfo
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from portal.keyfiles import local_secret

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
VAR_DIR.mkdir(exist_ok=True)

env = environ.Env()


def _fail(variable: str, problem: str) -> None:
    """Stop start-up with one line naming the variable at fault."""
    sys.stderr.write(f"Leadbridge cannot start: {variable} {problem}\n")
    raise SystemExit(2)


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _bool(variable: str, default: bool) -> bool:
    raw = env.str(variable, default=str(default)).strip().lower()
    if raw not in _TRUE | _FALSE:
        _fail(variable, f"must be true or false, not {raw!r}.")
    return raw in _TRUE


def _db(variable: str, default: str, *, application_name: str) -> dict:
    raw = env.str(variable, default=default)
    scheme = raw.split("://", 1)[0] if "://" in raw else ""
    if scheme not in environ.Env.DB_SCHEMES:
        known = ", ".join(sorted({"postgres", "postgresql", "sqlite", "mysql"}))
        _fail(variable, f"must be a URL starting with one of {known}, not {raw!r}.")
    try:
        config = environ.Env.db_url_config(raw)
    except (ValueError, ImproperlyConfigured, KeyError) as exc:
        _fail(variable, f"is not a database URL Leadbridge understands ({exc}).")
    if not config.get("ENGINE") or not config.get("NAME"):
        _fail(variable, f"is not a database URL Leadbridge understands: {raw!r}.")
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # Test databases are files (one per test process), so a real worker process started by
        # a test can share them; in-memory databases cannot be shared across processes.
        config["TEST"] = {"NAME": str(VAR_DIR / f"test-{variable.lower()}-{os.getpid()}.sqlite3")}
        # WAL lets the web process read while a worker writes; IMMEDIATE avoids lock upgrades.
        config["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,  # seconds a writer waits for another's lock (busy_timeout)
        }
        # Each web thread keeps its connection: closing the last one checkpoints the WAL, which
        # cost a form post more than its INSERT.
        config.setdefault("CONN_MAX_AGE", 60)
    else:
        config.setdefault("CONN_MAX_AGE", 60)
        config["CONN_HEALTH_CHECKS"] = True
        # Named in pg_stat_activity, so the portal's backends (their queries, their CPU) can be
        # told from other clients of the same server.
        config.setdefault("OPTIONS", {})["application_name"] = application_name[:63]
    return config


def _int(variable: str, default: int) -> int:
    raw = env.str(variable, default=str(default)).strip()
    if not raw.isdigit():
        _fail(variable, f"must be a whole number, not {raw!r}.")
    return int(raw)


def _time_zone(variable: str) -> str:
    name = env.str(variable, default="UTC")
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        _fail(variable, f"must be an IANA time zone such as Europe/Paris, not {name!r}.")
    return name


def _log_level(variable: str) -> str:
    level = env.str(variable, default="INFO").upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        _fail(variable, f"must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {level!r}.")
    return level


def _proxy_header(variable: str) -> tuple[str, str] | None:
    """``X-Forwarded-Proto`` → Django's ``("HTTP_X_FORWARDED_PROTO", "https")``."""
    name = env.str(variable, default="").strip()
    if not name:
        return None
    if not re.fullmatch(r"[A-Za-z0-9-]+", name):
        _fail(variable, f"must be a header name such as X-Forwarded-Proto, not {name!r}.")
    return "HTTP_" + name.upper().replace("-", "_"), "https"


def _strong_secret_key(key: str) -> str:
    """Django's own deploy check, made fatal: a guessable key forges sessions and resets."""
    if len(key) < 50 or len(set(key)) < 5 or key.startswith("django-insecure-"):
        _fail(
            "SECRET_KEY",
            "is too weak: use at least 50 characters, at least 5 of them different "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))').",
        )
    return key


def _fernet_keys(keys: str) -> str:
    """Every comma-separated key (the first encrypts, all decrypt) must be a Fernet key."""
    from cryptography.fernet import Fernet

    for key in (part.strip() for part in keys.split(",")):
        try:
            Fernet(key.encode())
        except (ValueError, TypeError):
            _fail(
                "FIELD_ENCRYPTION_KEY",
                "is not a list of Fernet keys (each 32 url-safe base64-encoded bytes; "
                "python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())').",
            )
    return keys


DEBUG = _bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        _fail("SECRET_KEY", "must be set when DEBUG is off (production).")
    SECRET_KEY = local_secret(VAR_DIR / "secret_key", lambda: secrets.token_urlsafe(50))
elif not DEBUG:
    _strong_secret_key(SECRET_KEY)

# Key that encrypts connector secrets at rest (Fernet, urlsafe base64 of 32 bytes).
FIELD_ENCRYPTION_KEY = env.str("FIELD_ENCRYPTION_KEY", default="")
if not FIELD_ENCRYPTION_KEY:
    if not DEBUG:
        _fail("FIELD_ENCRYPTION_KEY", "must be set when DEBUG is off (production).")
    from cryptography.fernet import Fernet

    FIELD_ENCRYPTION_KEY = local_secret(
        VAR_DIR / "field_encryption_key", lambda: Fernet.generate_key().decode()
    )
_fernet_keys(FIELD_ENCRYPTION_KEY)

# The sandbox Salesforce org (demo and tests): off in production unless asked for.
SANDBOX_ENABLED = _bool("SANDBOX_ENABLED", default=DEBUG)

try:
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
except ImproperlyConfigured:
    _fail("ALLOWED_HOSTS", "must be a comma-separated list of host names.")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "portal.apps.PortalAdminConfig",  # django.contrib.admin behind the Sync admin role
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",  # OpClass in indexes (core.indexes.PrefixIndex)
    "django_rq",
    "django_tables2",
    "django_filters",
    "axes",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served from here (no CDN)
    "core",
    "portal",
    "prospects",
    "crm",
    "sync",
    "automation",
    "intake",
    "api",
    "operations",
    "reports",
    *(["sandbox"] if SANDBOX_ENABLED else []),
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.idle_timeout.IdleTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into the login page's message
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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
                "portal.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": _db(
        "DATABASE_URL",
        default=f"sqlite:///{VAR_DIR / 'leadbridge.sqlite3'}",
        application_name=env.str("DATABASE_APPLICATION_NAME", default="leadbridge"),
    ),
}
if SANDBOX_ENABLED:
    # The sandbox org is a separate system with its own database (see sandbox/router.py).
    DATABASES["sandbox"] = _db(
        "SANDBOX_DATABASE_URL",
        default=f"sqlite:///{VAR_DIR / 'sandbox.sqlite3'}",
        application_name="leadbridge-sandbox-org",
    )
    DATABASE_ROUTERS = ["sandbox.router.SandboxRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis carries only wake-ups; the database is the source of truth for what must sync.
# Unset, it is the embedded server that `make run` / `make test` start (portal/embedded_redis.py).
EMBEDDED_REDIS_SOCKET = VAR_DIR / "redis" / "redis.sock"
REDIS_URL = env.str("REDIS_URL", default=f"unix://{EMBEDDED_REDIS_SOCKET}")
if not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    _fail("REDIS_URL", f"must start with redis://, rediss:// or unix://, not {REDIS_URL!r}.")

RQ_QUEUES = {
    name: {"URL": REDIS_URL, "DEFAULT_TIMEOUT": timeout}
    for name, timeout in (("default", 360), ("sync", 1800), ("imports", 3600))
}
# The dashboard lives at /admin/django-rq/ behind the Sync admin role (portal/urls.py); django-rq's
# own admin registration would add unguarded JSON endpoints.
RQ_SHOW_ADMIN_LINK = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "portal:dashboard"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (django-axes): a username and IP pair that fails LOGIN_FAILURE_LIMIT times is
# locked out for LOGIN_LOCKOUT_MINUTES (each further try restarts the wait); Sync admins can lift
# it on the Lockouts page. Locking the pair, not the user, keeps an attacker from locking
# colleagues out from elsewhere.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = _int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=_int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "portal.lockouts.locked_out"
AXES_CLIENT_IP_CALLABLE = "core.http.client_ip"
# Reverse proxies in front of the web process that append the client's address to
# X-Forwarded-For; 0 trusts no header and uses the connection's address.
TRUSTED_PROXY_COUNT = _int("TRUSTED_PROXY_COUNT", default=0)

# Idle timeout: a signed-in session ends this long after its last use (portal/idle_timeout.py
# renews it as it is used, at most once a minute).
SESSION_COOKIE_AGE = _int("SESSION_IDLE_MINUTES", default=60) * 60

LANGUAGE_CODE = "en-us"
TIME_ZONE = _time_zone("TIME_ZONE")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Serve straight from the app folders when collectstatic has not run (local use).
WHITENOISE_USE_FINDERS = DEBUG or not STATIC_ROOT.exists()
WHITENOISE_MANIFEST_STRICT = False

DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5-responsive.html"

SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SESSION_COOKIE_SECURE = _bool("SECURE_COOKIES", default=True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# HTTPS. Behind a TLS proxy, SECURE_PROXY_SSL_HEADER names the header it sets to "https" (e.g.
# X-Forwarded-Proto); without it every request looks like plain HTTP and is redirected forever.
SECURE_SSL_REDIRECT = _bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^health/$"]  # load balancers probe over plain HTTP
SECURE_PROXY_SSL_HEADER = _proxy_header("SECURE_PROXY_SSL_HEADER")
SECURE_HSTS_SECONDS = _int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = _bool("SECURE_HSTS_PRELOAD", default=True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": _log_level("LOG_LEVEL")},
    # django-axes: failures and lockouts are warnings; its INFO lines repeat on every start.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

# A worker's claim on pending prospects expires this many seconds after its last renewal (a
# live push renews before every Salesforce call; a killed worker's batch is taken again).
SYNC_CLAIM_TIMEOUT = _int("SYNC_CLAIM_TIMEOUT", default=300)
# A Bulk API job still unfinished this many seconds after it started is aborted and its rows
# retried later with backoff (upserts: no duplicates).
SYNC_BULK_DEADLINE = _int("SYNC_BULK_DEADLINE", default=900)
SYNC_MAX_ATTEMPTS = _int("SYNC_MAX_ATTEMPTS", default=10)
# The portal's public URL, written to the package's URL field on Salesforce records.
PORTAL_URL = env.str("PORTAL_URL", default="")
# Login hosts besides Salesforce's own (login.salesforce.com, test.salesforce.com and
# *.my.salesforce.com) that the connector may send its secrets to, as host:port entries: the
# sandbox org of the demo and the tests, a proxy. See sync/login_hosts.py.
SALESFORCE_LOGIN_HOSTS = env.list("SALESFORCE_LOGIN_HOSTS", default=[])

# Public forms, form handlers and landing pages (intake/protection.py): posts per minute per IP
# (0: no limit; 429 beyond), the largest body accepted (413 beyond), and how long preference
# centre links work (intake/preferences.py).
FORM_RATE_LIMIT = _int("FORM_RATE_LIMIT", default=20)
FORM_MAX_BODY_BYTES = _int("FORM_MAX_BODY_BYTES", default=64 * 1024)
PREFERENCE_LINK_DAYS = _int("PREFERENCE_LINK_DAYS", default=90)
# Outgoing email: alerts to the Sync admins (operations/alerts.py) and invitations of the
# portal users the Salesforce user sync creates (crm). One URL, EMAIL_URL, as django-environ
# reads it: smtp://user:password@host:587 (smtp+tls://, smtp+ssl://), consolemail:// (printed
# to the process's output), dummymail://. Without it, EMAIL_BACKEND (a backend's dotted path)
# with EMAIL_HOST / EMAIL_PORT for SMTP; without either, the console locally (DEBUG) and SMTP
# on localhost:25 in production. Read into Django 6.1's MAILERS; the URL, which may hold a
# password, is not kept as a setting.
_EMAIL_NAMES = {"EMAIL_HOST": "host", "EMAIL_PORT": "port", "EMAIL_HOST_USER": "username",
                "EMAIL_HOST_PASSWORD": "password", "EMAIL_USE_TLS": "use_tls",
                "EMAIL_USE_SSL": "use_ssl", "EMAIL_FILE_PATH": "file_path"}  # fmt: skip


def _mailer() -> dict:
    if url := env.str("EMAIL_URL", default=""):
        try:
            config = env.email_url_config(url)
        except (ValueError, KeyError, ImproperlyConfigured) as exc:
            _fail("EMAIL_URL", f"is not an email URL Leadbridge understands ({exc}).")
        options = {
            _EMAIL_NAMES[k]: v
            for k, v in config.items()
            if k in _EMAIL_NAMES and v not in (None, "")
        }
        return {"BACKEND": config["EMAIL_BACKEND"], "OPTIONS": options}
    backend = env.str(
        "EMAIL_BACKEND",
        default="django.core.mail.backends.console.EmailBackend"
        if DEBUG
        else "django.core.mail.backends.smtp.EmailBackend",
    )
    if not backend.endswith(".smtp.EmailBackend"):
        return {"BACKEND": backend}
    options = {"host": env.str("EMAIL_HOST", default="localhost"), "port": _int("EMAIL_PORT", 25)}
    return {"BACKEND": backend, "OPTIONS": options}


MAILERS = {"default": _mailer()}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="leadbridge@localhost")
# The REST API (/api/v1/, api/): per-user keys (Authorization: Bearer), each limited to
# API_RATE_LIMIT requests ("<n>/second|minute|hour|day"), counted in Redis so every web process
# shares the count. Request bodies above API_MAX_BODY_BYTES are refused with 413 (CSV imports
# excepted: they are files, up to the import's own limit).
API_RATE_LIMIT = env.str("API_RATE_LIMIT", default="600/minute")
if not re.fullmatch(r"[1-9]\d*/(second|minute|hour|day)", API_RATE_LIMIT):
    _fail("API_RATE_LIMIT", f"must look like 600/minute, not {API_RATE_LIMIT!r}.")
API_MAX_BODY_BYTES = _int("API_MAX_BODY_BYTES", default=5 * 1024 * 1024)
# Django refuses larger non-file bodies before any parser sees them (default 2.5 MB).
DATA_UPLOAD_MAX_MEMORY_SIZE = max(API_MAX_BODY_BYTES, 2_621_440)
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "api": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "api",
    },
}
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.auth.ApiKeyAuthentication",
        # The browsable docs' "Try it out" for a signed-in marketer; DRF checks its CSRF token.
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.IsMarketer"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.ApiKeyRateThrottle"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.LimitedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.exceptions.handle_exception",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "URL_FORMAT_OVERRIDE": None,  # JSON always (the import report: CSV); no ?format=
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Leadbridge API",
    "DESCRIPTION": (
        "Prospects, imports, Sync Errors and campaigns. Authenticate with a personal API key "
        "(My API keys, in the user menu): `Authorization: Bearer <key>`."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["api.permissions.IsMarketer"],  # the schema: a key or a session
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.add_error_responses",
    ],
}
# Alert thresholds (operations/alerts.py): new Sync Errors in the last 15 minutes; minutes a
# heartbeat may be silent; minutes the oldest pending queue row may wait. A daily digest of
# open incidents and the day's figures when ALERT_DAILY_DIGEST is on.
ALERT_ERROR_SPIKE = _int("ALERT_ERROR_SPIKE", default=50)
ALERT_SILENT_MINUTES = _int("ALERT_SILENT_MINUTES", default=5)
ALERT_QUEUE_STUCK_MINUTES = _int("ALERT_QUEUE_STUCK_MINUTES", default=30)
ALERT_DAILY_DIGEST = _bool("ALERT_DAILY_DIGEST", default=False)

# Uploads over FILE_UPLOAD_MAX_MEMORY_SIZE (Django's 2.5 MB) stream to a temporary file here, on
# the disk where imports keep their files until the worker is done (intake/imports.py), never
# into memory. The 200 MB limit of an import is checked on the upload (intake.imports).
FILE_UPLOAD_TEMP_DIR = str(VAR_DIR / "uploads")
(VAR_DIR / "uploads").mkdir(exist_ok=True)
