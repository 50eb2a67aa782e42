"""BirthdayBuddy settings: one module, driven by environment variables (django-environ).

With no environment at all the service runs on its embedded default: a SQLite file
database, a file-based cache and a file-system Celery broker under ``var/``, and
console/outbox providers. ``DATABASE_URL`` / ``REDIS_URL`` / ``CELERY_BROKER_URL`` switch
to PostgreSQL and Redis. ``BB_TEST_EMBEDDED=1`` is the test runner's embedded mode.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
env_file = BASE_DIR / ".env"
if env_file.exists():
    environ.Env.read_env(str(env_file))

DEBUG = env.bool("DEBUG", default=False)
# Production is declared explicitly; it makes secrets mandatory and turns on HTTPS hardening.
PRODUCTION = env.bool("PRODUCTION", default=False)
TESTING = env.bool("BB_TESTING", default=False)
EMBEDDED = not env.str("DATABASE_URL", default="") or env.bool("BB_TEST_EMBEDDED", default=False)

if PRODUCTION:
    SECRET_KEY = env.str("SECRET_KEY")
else:
    SECRET_KEY = env.str("SECRET_KEY", default="dev-insecure-birthdaybuddy-key-change-me-0123456789abcdef")
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "birthdaybuddy.admin_site.BirthdayBuddyAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "axes",
    "django_celery_beat",
    "auditlog",
    "audit",
    "accounts",
    "workspaces",
    "events",
    "reminders",
    "gatherings",
    "cards",
    "scheduling",
    "notifications",
    "pages",
    "slackapp",
]

MIDDLEWARE = [
    "birthdaybuddy.middleware.RequestIdMiddleware",
    # The security headers first: every response gets them, the early refusals below included.
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "birthdaybuddy.middleware.BodySizeLimitMiddleware",
    "birthdaybuddy.middleware.RejectNulCharactersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The audit log's actor and address (in place of auditlog's middleware: DRF authenticates later).
    "audit.context.AuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Last: it turns the lock-out axes' backend flags on the request into the answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "birthdaybuddy.urls"
WSGI_APPLICATION = "birthdaybuddy.wsgi.application"
ASGI_APPLICATION = "birthdaybuddy.asgi.application"

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
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------
if EMBEDDED:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env.str("SQLITE_PATH", default=str(VAR_DIR / "birthdaybuddy.sqlite3")),
            # IMMEDIATE transactions + WAL: web and worker write without "database is locked".
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
else:
    DATABASES = {"default": env.db("DATABASE_URL")}
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # The same backend, with a health check that needs no round trip on an idle connection.
        DATABASES["default"]["ENGINE"] = "birthdaybuddy.postgresql"
    # Server-side parameter binding lets psycopg prepare statements a connection repeats (the
    # tick's, delivery's and the API's hot queries), so PostgreSQL parses them once. Each run is
    # still planned for its own values (force_custom_plan): a generic plan would guess at ranges
    # such as "next_run_at <= now" and may scan a whole table. Off behind a pooler in
    # transaction mode (PgBouncer < 1.21), where prepared statements break.
    if env.bool("DATABASE_SERVER_SIDE_BINDING", default=True):
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            {"server_side_binding": True, "options": "-c plan_cache_mode=force_custom_plan"}
        )
    DATABASES["default"]["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME", default="test_birthdaybuddy")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache --------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
CACHE_KEY_PREFIX = env.str("CACHE_KEY_PREFIX", default="bb")
if REDIS_URL and not env.bool("BB_TEST_EMBEDDED", default=False):
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": 2,
                "SOCKET_TIMEOUT": 2,
            },
        }
    }
else:
    # A file cache is shared by web and worker processes (LocMemCache is per process).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": env.str("FILE_CACHE_DIR", default=str(VAR_DIR / "cache")),
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }

# --- Reverse proxy ------------------------------------------------------------------------
# The one switch of trust in a proxy: how many reverse proxies stand in front of the service.
# 0 (the default): the client's address is the connection's and X-Forwarded-For/-Proto are
# ignored, so a client reaching gunicorn directly cannot claim another address or HTTPS.
# N > 0: the N-th address from the right of X-Forwarded-For is the client's (throttles,
# admin lock-out, audit log) and X-Forwarded-Proto says whether the request came over HTTPS.
# docker-compose.yml sets 1 (its web port is meant for the host's TLS proxy).
NUM_PROXIES = env.int("NUM_PROXIES", default=0)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if NUM_PROXIES else None

# --- Auth ---------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# django-axes in front of the model backend: failed sign-ins (the Django admin's and the API's
# login) are counted per account *and* client address, so a stranger guessing someone's
# password locks out only themself, never the account's owner signing in from elsewhere.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "accounts.lockout.attempted_username"
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
# Failed attempts are recorded (admin: "Access attempts"); successful logins are not logged twice.
AXES_DISABLE_ACCESS_LOG = True
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    # Hashing speed is not what the tests are about.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3600)
VERIFICATION_CODE_TTL = timedelta(minutes=15)
VERIFICATION_CODE_MAX_ATTEMPTS = 5
INVITATION_TTL = timedelta(days=7)
UNVERIFIED_USER_TTL = timedelta(days=2)

# --- REST framework -----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ("workspaces.api.authentication.WorkspaceJWTAuthentication",),
    "DEFAULT_PERMISSION_CLASSES": ("rest_framework.permissions.IsAuthenticated",),
    "DEFAULT_FILTER_BACKENDS": (
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ),
    "DEFAULT_PAGINATION_CLASS": "birthdaybuddy.api.pagination.Pagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "birthdaybuddy.api.exceptions.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ("rest_framework.renderers.JSONRenderer",),
    "DEFAULT_PARSER_CLASSES": ("birthdaybuddy.api.parsers.JSONParser",),
    "DEFAULT_THROTTLE_CLASSES": (
        "birthdaybuddy.api.throttling.AnonRateThrottle",
        "birthdaybuddy.api.throttling.UserRateThrottle",
    ),
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON", default="120/min"),
        "user": env.str("THROTTLE_USER", default="600/min"),
        "auth_ip": env.str("THROTTLE_AUTH_IP", default="5/min"),
        "auth_email": env.str("THROTTLE_AUTH_EMAIL", default="5/min"),
        "rsvp": env.str("THROTTLE_RSVP", default="30/min"),
        "calendar": env.str("THROTTLE_CALENDAR", default="60/min"),
        "pages": env.str("THROTTLE_PAGES", default="60/min"),
    },
    "NUM_PROXIES": NUM_PROXIES,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=5)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default=SECRET_KEY),
    "AUTH_HEADER_TYPES": ("Bearer",),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "BirthdayBuddy API",
    "DESCRIPTION": (
        "Birthdays, anniversaries, deadlines and appointments remembered for teams and small "
        "businesses, delivered through Slack, email, SMS and WhatsApp. Authenticate with "
        "`Authorization: Bearer <access>` from `POST /api/v1/auth/login`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "birthdaybuddy.api.schema.add_error_responses",
        "birthdaybuddy.api.schema.nullable_references",
    ],
    # Swagger UI and ReDoc from the service itself (drf-spectacular-sidecar), never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {
        "persistAuthorization": True,  # a pasted token survives a reload
        "deepLinking": True,
        "displayRequestDuration": True,
        "tryItOutEnabled": False,
    },
    # In the order a workspace admin meets them; staff tools and provider hooks last.
    "TAGS": [
        {"name": "auth", "description": "Sign up, verify, log in (JWT), refresh, log out, reset a password."},
        {"name": "profile", "description": "Your own account."},
        {"name": "workspaces", "description": "Create and configure workspaces."},
        {"name": "members", "description": "Who belongs to a workspace, with which role."},
        {"name": "invitations", "description": "Invite members by email."},
        {"name": "people", "description": "Members and clients with birthdays and work anniversaries."},
        {"name": "birthdays", "description": "Upcoming birthdays and anniversaries."},
        {"name": "channels", "description": "Slack, email, SMS and WhatsApp channels."},
        {"name": "slack", "description": "The Slack app: install, members' consent, directory sync."},
        {"name": "templates", "description": "Message templates per kind and channel."},
        {"name": "events", "description": "Deadlines, appointments and gatherings."},
        {"name": "rsvp", "description": "Personal RSVP links (public)."},
        {"name": "calendar feeds", "description": "iCalendar subscriptions."},
        {"name": "gathering costs", "description": "A gathering's expenses, balances and settlements."},
        {"name": "gathering tasks", "description": "A gathering's checklist: tasks and things to bring."},
        {"name": "gathering comments", "description": "A gathering's comment thread and its moderation."},
        {"name": "gathering files", "description": "A gathering's photos and PDFs (signed, expiring URLs)."},
        {"name": "celebration prep", "description": "Advance alerts before celebrations and the team's group card."},
        {"name": "reminders", "description": "Who is told what, when and how."},
        {"name": "scheduling", "description": "Runs, job history and the upcoming preview."},
        {"name": "notifications", "description": "Delivery history, resends and statistics."},
        {"name": "audit", "description": "Who changed what."},
        {"name": "reference", "description": "Time zones and other reference data."},
        {"name": "staff: users", "description": "Platform staff only."},
        {"name": "staff tools", "description": "Platform staff only."},
        {"name": "hooks", "description": "Called by providers (Twilio), not by people."},
    ],
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "workspaces.models.Role",
        "LeapDayPolicyEnum": "workspaces.models.LeapDayPolicy",
        "CelebrateEnum": "workspaces.models.Celebrate",
        "CelebrationShiftEnum": "workspaces.models.CelebrationShift",
        "UserStatusEnum": "accounts.models.User.Status",
        "ChannelEnum": "workspaces.models.Channel",
        "InvitationStatusEnum": "workspaces.models.InvitationStatus",
        "EventKindEnum": "events.models.EventKind",
        "EventStatusEnum": "events.models.EventStatus",
        "RsvpEnum": "events.models.Rsvp",
        "TaskKindEnum": "gatherings.models.TaskKind",
        "SplitMethodEnum": "gatherings.models.SplitMethod",
    },
}

# --- CORS, security -----------------------------------------------------------------------
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("MAX_REQUEST_BODY_BYTES", default=1_048_576)
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE
# Bulk endpoints (CSV import) may accept more; everything else is capped at the default.
MAX_UPLOAD_BODY_BYTES = env.int("MAX_UPLOAD_BODY_BYTES", default=10 * 1_048_576)

SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=PRODUCTION)
SECURE_REDIRECT_EXEMPT = [r"^health/"]
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=PRODUCTION)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=PRODUCTION)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Every response (django-csp): scripts, styles, images and fonts from this origin only; no
# inline script anywhere, no framing, no plugins. The API docs add inline styles and ReDoc's
# blob: worker on their own views (birthdaybuddy/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# --- I18N, time ---------------------------------------------------------------------------
LANGUAGE_CODE = "en"
# The languages people's pages and shipped messages are written in. A workspace's ``locale``
# (and a person's own ``language``) picks one; anything else falls back to English.
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "birthdaybuddy" / "static"]
STORAGES: dict[str, dict] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Uploaded files (gatherings' photos and PDFs): local files under var/media by default; any
# S3-compatible store with FILE_STORAGE=s3 (django-storages; needs boto3 installed), configured
# by its AWS_* variables. Files are never served from MEDIA_URL: only through signed URLs.
MEDIA_ROOT = env.str("MEDIA_ROOT", default=str(VAR_DIR / "media"))
if env.str("FILE_STORAGE", default="local") == "s3":
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default=None),
            "region_name": env.str("AWS_S3_REGION_NAME", default=None),
            "access_key": env.str("AWS_S3_ACCESS_KEY_ID", default=None),
            "secret_key": env.str("AWS_S3_SECRET_ACCESS_KEY", default=None),
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
GATHERINGS_MAX_FILE_BYTES = env.int("GATHERINGS_MAX_FILE_BYTES", default=10 * 1_048_576)
GATHERINGS_FILE_URL_SECONDS = env.int("GATHERINGS_FILE_URL_SECONDS", default=3600)

# --- Email --------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
if EMAIL_CONFIG["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend":
    EMAIL_BACKEND = "birthdaybuddy.mail.EmailBackend"  # the same text, logged at INFO (worker included)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="BirthdayBuddy <no-reply@birthdaybuddy.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Providers (used by the notifications app) --------------------------------------------
SLACK_WEBHOOK_URL_PREFIXES = env.list("SLACK_WEBHOOK_URL_PREFIXES", default=["https://hooks.slack.com/"])
SLACK_API_BASE_URL = env.str("SLACK_API_BASE_URL", default="https://slack.com/api/")
SLACK_TIMEOUT_SECONDS = env.int("SLACK_TIMEOUT_SECONDS", default=10)
# Microsoft Teams and Google Chat webhooks: their hosts are fixed in notifications/validators.py
# (https, default port, no IP literal). These lists add exact URL prefixes beside them — for a
# local fake in tests and benchmarks only; empty in production.
TEAMS_WEBHOOK_EXTRA_URL_PREFIXES = env.list("TEAMS_WEBHOOK_EXTRA_URL_PREFIXES", default=[])
GOOGLE_CHAT_WEBHOOK_EXTRA_URL_PREFIXES = env.list("GOOGLE_CHAT_WEBHOOK_EXTRA_URL_PREFIXES", default=[])
CHAT_WEBHOOK_TIMEOUT_SECONDS = env.int("CHAT_WEBHOOK_TIMEOUT_SECONDS", default=10)
TWILIO_API_BASE_URL = env.str("TWILIO_API_BASE_URL", default="https://api.twilio.com")
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
# Channel secrets are encrypted with Fernet keys derived from SECRET_KEY (+ SECRET_KEY_FALLBACKS
# for rotation) and this salt list (django-fernet-encrypted-fields).
SALT_KEY = env.list("FIELD_ENCRYPTION_SALT", default=["birthdaybuddy-channel-secrets"])

# --- Celery -------------------------------------------------------------------------------
if TESTING:
    # The tests pick their brokers themselves (tests/brokers.py). Celery reads this variable
    # over its settings, so one left in the caller's environment or .env would receive the
    # tests' tasks: under test the broker follows REDIS_URL (or the embedded default) instead.
    os.environ.pop("CELERY_BROKER_URL", None)
CELERY_BROKER_URL = env.str(
    "CELERY_BROKER_URL",
    default=(REDIS_URL if REDIS_URL and not EMBEDDED else "filesystem://localhost/"),
)
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu (5.7+) refuses import paths in broker URLs, so the atomic file-system
    # transport is named here; the URL only says "filesystem".
    BROKER_DIR = Path(env.str("BROKER_DIR", default=str(VAR_DIR / "broker")))
    CELERY_BROKER_TRANSPORT = "birthdaybuddy.broker:AtomicFilesystemTransport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR),
        "data_folder_out": str(BROKER_DIR),
        "processed_folder": f"{BROKER_DIR}-processed",
        "control_folder": f"{BROKER_DIR}-control",
        "store_processed": False,
        "polling_interval": 0.1,
    }
else:
    # Sized to the longest a message may stay unacknowledged: a delivery task's longest countdown
    # (NOTIFICATIONS_MAX_COUNTDOWN_SECONDS, 300 s) plus its hard time limit (180 s), with a
    # margin. A shorter one redelivers held countdown tasks (harmless: the claim decides, but
    # wasted); a longer one only delays what the database sweeper already recovers on its own.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=600),
        "max_connections": 200,
    }
# The worker logs through LOGGING (request-id filter, JSON in production, LOG_DIR file).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
# No task sets a Celery rate limit (providers' limits are token buckets in Redis): skip the
# worker's per-task-type rate-limit bookkeeping.
CELERY_WORKER_DISABLE_RATE_LIMITS = True
CELERY_TASK_SOFT_TIME_LIMIT = 120
CELERY_TASK_TIME_LIMIT = 180
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Celery's Django fixup closes the DB connection after every task unless told otherwise.
# (Broken or expired connections are still dropped around each task: birthdaybuddy/celery.py.)
CELERY_DB_REUSE_MAX = 1000
# The worker's health (birthdaybuddy/worker_health.py): its main loop touches this file (off
# when empty; docker compose sets it and checks its age), and /health/worker fails when the
# tick or the sweep has failed or not succeeded for this long.
WORKER_LIVENESS_FILE = env.str("WORKER_LIVENESS_FILE", default="")
WORKER_LIVENESS_INTERVAL_SECONDS = env.float("WORKER_LIVENESS_INTERVAL_SECONDS", default=10)
WORKER_STALE_SECONDS = env.float("WORKER_STALE_SECONDS", default=180)
DJANGO_CELERY_BEAT_TZ_AWARE = True

# --- Logging ------------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
LOG_FORMAT = env.str("LOG_FORMAT", default="json" if PRODUCTION else "text")
LOG_DIR = env.str("LOG_DIR", default="")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "birthdaybuddy.logging.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)-7s [%(request_id)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.security.DisallowedHost": {"level": "ERROR"},
        # runserver access lines go to our handlers, so they get the request id and format.
        "django.server": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
    },
}
if LOG_DIR:
    from birthdaybuddy.logging import per_start_log_file

    LOGGING["handlers"]["file"] = {
        "class": "logging.FileHandler",
        "filename": per_start_log_file(LOG_DIR),
        "formatter": "json",
        "filters": ["request_id"],
        "delay": True,
    }
    LOGGING["root"]["handlers"].append("file")

# --- Audit log (django-auditlog) ------------------------------------------------------------
# Which models are audited, and how, is declared in audit/registry.py (registered in
# AuditConfig.ready). Changes are stored as JSON values; fixtures loaded raw are not logged.
AUDITLOG_STORE_JSON_CHANGES = True
AUDITLOG_DISABLE_ON_RAW_SAVE = True
# Secrets are replaced as a whole, never half-shown (auditlog's default mask keeps the second half).
AUDITLOG_MASK_CALLABLE = "audit.registry.mask_secret"
# The correlation id of an entry is the request id (X-Request-ID) of the request that made it.
AUDITLOG_CID_GETTER = "audit.context.current_request_id"
# Retention (the daily "Prune old history" job and `manage.py prune_history`); 0 keeps forever.
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=365)
INBOUND_CONTACT_RETENTION_DAYS = env.int("INBOUND_CONTACT_RETENTION_DAYS", default=7)

# --- Domain defaults ----------------------------------------------------------------------
# An occurrence missed by less than this (after downtime) still fires, once; older ones are
# recorded as missed. A digest never fires after its local day has ended.
SCHEDULING_GRACE = timedelta(hours=env.int("SCHEDULING_GRACE_HOURS", default=6))
TICK_BATCH_SIZE = env.int("TICK_BATCH_SIZE", default=500)
# Without a channel configured, messages go to the console/outbox (var/outbox/) instead of
# failing with "channel_not_configured": the embedded default's way to show deliveries.
NOTIFICATIONS_CONSOLE_FALLBACK = env.bool("NOTIFICATIONS_CONSOLE_FALLBACK", default=EMBEDDED and not TESTING)
NOTIFICATIONS_RATE_LIMIT_ENABLED = env.bool("NOTIFICATIONS_RATE_LIMIT_ENABLED", default=True)
NOTIFICATIONS_MAX_ATTEMPTS = env.int("NOTIFICATIONS_MAX_ATTEMPTS", default=5)
# From this many notifications queued at once, delivery runs in concurrent batches of BATCH_SIZE.
NOTIFICATIONS_BATCH_THRESHOLD = env.int("NOTIFICATIONS_BATCH_THRESHOLD", default=50)
NOTIFICATIONS_BATCH_SIZE = env.int("NOTIFICATIONS_BATCH_SIZE", default=200)
# Provider calls a batch has open at once; it claims more only as outcomes are recorded, so a
# killed worker leaves at most this many rows per batch in ``sending``.
NOTIFICATIONS_BATCH_IN_FLIGHT = env.int("NOTIFICATIONS_BATCH_IN_FLIGHT", default=50)
# A worker renews the lease of the claims it holds every third of this; the sweeper settles a
# dead worker's rows once their lease has lapsed (about a minute after the death in all).
NOTIFICATIONS_CLAIM_LEASE_SECONDS = env.float("NOTIFICATIONS_CLAIM_LEASE_SECONDS", default=20)
# A pending row this long past due was lost by the broker (e.g. a Redis restart): queued again.
NOTIFICATIONS_SWEEP_PENDING_GRACE_SECONDS = env.float("NOTIFICATIONS_SWEEP_PENDING_GRACE_SECONDS", default=30)
NOTIFICATIONS_OUTBOX_DIR = env.str("NOTIFICATIONS_OUTBOX_DIR", default=str(VAR_DIR / "outbox"))
TWILIO_TIMEOUT_SECONDS = env.int("TWILIO_TIMEOUT_SECONDS", default=10)
# The public origin people and Twilio reach us at (e.g. https://buddy.example.com). Every absolute
# link we send (RSVP, password reset, invitations, preferences, calendar feeds) starts with it
# (birthdaybuddy/links.py); Twilio's signed status callbacks and inbound STOP/START are validated
# against it, and outgoing SMS/WhatsApp ask for delivery receipts there. Unset, links use the
# address the server was started on (``runstack`` passes it as BB_SERVED_URL) and Twilio sends
# no receipts.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="")
SERVED_BASE_URL = env.str("BB_SERVED_URL", default="http://localhost:8000")
WHATSAPP_SESSION_WINDOW_SECONDS = env.int("WHATSAPP_SESSION_WINDOW_SECONDS", default=24 * 3600 - 300)
TWILIO_HOOK_THROTTLE_RATE = env.str("TWILIO_HOOK_THROTTLE_RATE", default="6000/min")
DEFAULT_WORKSPACE_TIMEZONE = "UTC"
# Shows /health/ready's details (latencies, errors) to monitoring that sends it as X-Health-Token.
HEALTH_TOKEN = env.str("HEALTH_TOKEN", default="")
ADMIN_EMAIL = env.str("ADMIN_EMAIL", default="")
ADMIN_PASSWORD = env.str("ADMIN_PASSWORD", default="")
ADMIN_DOB = env.str("ADMIN_DOB", default="")

# --- The Slack app (slackapp): OAuth install, signed requests, /birthday, App Home -----------
SLACK_CLIENT_ID = env.str("SLACK_CLIENT_ID", default="")
SLACK_CLIENT_SECRET = env.str("SLACK_CLIENT_SECRET", default="")
# Every request from Slack (commands, interactivity, events) is checked against it; unset: refused.
SLACK_SIGNING_SECRET = env.str("SLACK_SIGNING_SECRET", default="")
SLACK_OAUTH_AUTHORIZE_URL = env.str("SLACK_OAUTH_AUTHORIZE_URL", default="https://slack.com/oauth/v2/authorize")
SLACK_BOT_SCOPES = env.list(
    "SLACK_BOT_SCOPES",
    default=["commands", "chat:write", "im:write", "users:read", "users:read.email", "incoming-webhook"],
)
# How long an "Add to Slack" link may be used (seconds); each link works once.
SLACK_OAUTH_STATE_SECONDS = env.int("SLACK_OAUTH_STATE_SECONDS", default=600)
# The slash command as it is configured in the app's manifest.
SLACK_COMMAND_NAME = env.str("SLACK_COMMAND_NAME", default="/birthday")
# Tries of a Web API call answered 429 (Retry-After is obeyed between them).
SLACK_RATE_LIMIT_RETRIES = env.int("SLACK_RATE_LIMIT_RETRIES", default=3)
