"""The one settings module. Every value comes from the environment, with safe local defaults.

Production sets DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS, DJANGO_HTTPS=1, DATABASE_URL and REDIS_URL
(see README, "Environment").
"""

import re
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
RUN_DIR = Path(env("RUN_DIR", default=str(BASE_DIR / ".run")))  # `make run`'s files: broker, beat schedule

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="dev-only-key-not-for-production-0123456789-abcdefghijklmnop")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "phonenumber_field",
    "axes",
    "csp",
    "pgtrigger",
    "users",
    "customers",
    "events",
    "messaging",
    "crm",
    "fsm",
    "finance",
    "integrations",
    "anymail",
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
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "users.middleware.BusinessTimezoneMiddleware",
    "axes.middleware.AxesMiddleware",
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
                "csp.context_processors.nonce",
                "users.context_processors.navigation",
            ],
            "builtins": ["common.templatetags"],  # {{ amount|money }} in every template
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
# Local default: SQLite shared by web, worker and beat (WAL, busy timeout, immediate transactions).
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # The ledger's covering index (INCLUDE) is for PostgreSQL; SQLite keeps the index without it.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Celery ---------------------------------------------------------------------------------------
# With REDIS_URL: Redis. Without: the filesystem transport, which needs no server.
REDIS_URL = env("REDIS_URL", default="")
BROKER_DIR = RUN_DIR / "broker"
# The filesystem transport ignores the host, but kombu warns "No hostname was supplied" on every
# connection without one: `localhost` keeps the run log quiet.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://localhost/")
if CELERY_BROKER_URL.startswith("filesystem"):
    for sub in ("in", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "in"),
        "data_folder_out": str(BROKER_DIR / "in"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
# Speed-to-lead work has its own queue, so a burst of lead captures or event fan-out never waits in
# front of a text-back. Every worker consumes both queues unless started with -Q (a dedicated
# `celery -A config worker -Q sms` worker keeps texts fast under load).
CELERY_TASK_QUEUES = (Queue("celery"), Queue("sms"))
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {
    "messaging.tasks.call_text_back": {"queue": "sms"},
    "messaging.tasks.send_text": {"queue": "sms"},
    "messaging.tasks.send_texts": {"queue": "sms"},
    # The names these had before messaging owned them (tasks a deploy finds queued under them).
    "integrations.twilio.tasks.call_text_back": {"queue": "sms"},
    "integrations.sms.tasks.send_message": {"queue": "sms"},
}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing must not hang a web request when the broker is down: the sweep re-sends later.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BEAT_SCHEDULE_FILENAME = str(RUN_DIR / "celerybeat-schedule")

# Milestone delivery: attempts before a delivery lands in the exception queue, and the backoff base.
EVENTS_MAX_ATTEMPTS = env.int("EVENTS_MAX_ATTEMPTS", default=5)
EVENTS_RETRY_BACKOFF_SECONDS = env.int("EVENTS_RETRY_BACKOFF_SECONDS", default=10)
HEALTH_HEARTBEAT_MAX_AGE_SECONDS = env.int("HEALTH_HEARTBEAT_MAX_AGE_SECONDS", default=90)

# --- Lead capture ---------------------------------------------------------------------------------
LEADS_MAX_BODY_BYTES = env.int("LEADS_MAX_BODY_BYTES", default=100 * 1024)  # larger payloads get 413
# Submissions per IP per form. Real visitors share addresses (an office's NAT, a mall's Wi-Fi, a mobile
# carrier's CGNAT), so the limit only stops a flood: over it, a submission is still stored, as spam.
WEB_FORM_RATE_LIMIT = env("WEB_FORM_RATE_LIMIT", default="30/m")
# Wrong public document links (estimates, invoices) one address may try before it gets 429s.
PUBLIC_LINK_GUESS_RATE = env("PUBLIC_LINK_GUESS_RATE", default="20/m")
FACEBOOK_APP_SECRET = env("FACEBOOK_APP_SECRET", default="")
FACEBOOK_VERIFY_TOKEN = env("FACEBOOK_VERIFY_TOKEN", default="")
FACEBOOK_PAGE_ACCESS_TOKEN = env("FACEBOOK_PAGE_ACCESS_TOKEN", default="")
FACEBOOK_GRAPH_BASE_URL = env("FACEBOOK_GRAPH_BASE_URL", default="https://graph.facebook.com/v21.0")
GOOGLE_LSA_ENABLED = env.bool("GOOGLE_LSA_ENABLED", default=False)
GOOGLE_ADS_API_BASE_URL = env("GOOGLE_ADS_API_BASE_URL", default="https://googleads.googleapis.com/v18")
GOOGLE_ADS_CUSTOMER_ID = env("GOOGLE_ADS_CUSTOMER_ID", default="")
GOOGLE_ADS_DEVELOPER_TOKEN = env("GOOGLE_ADS_DEVELOPER_TOKEN", default="")
GOOGLE_ADS_ACCESS_TOKEN = env("GOOGLE_ADS_ACCESS_TOKEN", default="")
GOOGLE_ADS_LOGIN_CUSTOMER_ID = env("GOOGLE_ADS_LOGIN_CUSTOMER_ID", default="")
GOOGLE_LSA_POLL_SECONDS = env.int("GOOGLE_LSA_POLL_SECONDS", default=300)
IMPORT_MAX_UPLOAD_MB = env.int("IMPORT_MAX_UPLOAD_MB", default=50)

# --- Business documents ---------------------------------------------------------------------------
BUSINESS_LOGO_MAX_BYTES = env.int("BUSINESS_LOGO_MAX_BYTES", default=2 * 1024 * 1024)  # PNG or JPEG

# --- Field service --------------------------------------------------------------------------------
# Geocoder: a class with locate(property); the default works offline from ZIP-code centres.
GEOCODER_BACKEND = env("GEOCODER_BACKEND", default="customers.geocoding.ZipCentroidGeocoder")
FSM_PHOTO_MAX_BYTES = env.int("FSM_PHOTO_MAX_BYTES", default=10 * 1024 * 1024)  # job photos
FSM_SIGNATURE_MAX_BYTES = env.int("FSM_SIGNATURE_MAX_BYTES", default=512 * 1024)  # decoded PNG

# --- SMS and calls (Twilio) ------------------------------------------------------------------------
# What one SMS segment costs (Twilio US, long code), for a campaign's cost before and after it runs.
SMS_SEGMENT_PRICE = env.float("SMS_SEGMENT_PRICE", default=0.0083)
SMS_BACKEND = env("SMS_BACKEND", default="console")  # console: stored and shown in the app, nothing leaves
TWILIO_ACCOUNT_SID = env("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env("TWILIO_AUTH_TOKEN", default="")
TWILIO_PHONE_NUMBER = env("TWILIO_PHONE_NUMBER", default="+15555550100")
TWILIO_API_BASE_URL = env(
    "TWILIO_API_BASE_URL", default=""
)  # tests and proxies: applied as client.api.base_url
SMS_MAX_ATTEMPTS = env.int("SMS_MAX_ATTEMPTS", default=5)

# --- Online card payments (Stripe Checkout) ------------------------------------------------------
# Without STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET the invoice page has no Pay button and nothing calls
# Stripe. Payments are confirmed only by the signed webhook POST /integrations/stripe/webhook/.
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="https://api.stripe.com")  # tests: a local stand-in
# Where the Pay button's form ends up (a 303 to the hosted checkout page): added to the invoice page's
# CSP form-action, which browsers also apply to a form's redirects.
STRIPE_CHECKOUT_ORIGIN = env("STRIPE_CHECKOUT_ORIGIN", default="https://checkout.stripe.com")
STRIPE_CURRENCY = "usd"

# --- The outbox (messaging.outbox) ------------------------------------------------------------------
# One transport per channel, by dotted path (as EMAIL_BACKEND): messaging never imports integrations.
# The SMS transport sends through SMS_BACKEND's provider; the e-mail one through EMAIL_BACKEND.
MESSAGING_TRANSPORTS = {
    "sms": env("MESSAGING_SMS_TRANSPORT", default="integrations.sms.backends.SmsTransport"),
    "email": env("MESSAGING_EMAIL_TRANSPORT", default="integrations.email.transport.EmailTransport"),
    "chat": env("MESSAGING_CHAT_TRANSPORT", default="messaging.transports.ChatTransport"),
}

# --- Cache ----------------------------------------------------------------------------------------
# The cache lives in its own Redis database, so clearing it can never drop queued Celery tasks.
CACHE_REDIS_URL = env(
    "CACHE_REDIS_URL", default=re.sub(r"(/\d+)?$", "/1", REDIS_URL, count=1) if REDIS_URL else ""
)
if CACHE_REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Auth -----------------------------------------------------------------------------------------
AUTH_USER_MODEL = "users.User"
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)

# --- Security -------------------------------------------------------------------------------------
HTTPS = env.bool("DJANGO_HTTPS", default=False)
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 10)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie; kept default.
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
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

# --- I18N / time ----------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
PHONENUMBER_DEFAULT_REGION = env("PHONENUMBER_DEFAULT_REGION", default="US")
PHONENUMBER_DB_FORMAT = "E164"
PHONENUMBER_DEFAULT_FORMAT = "NATIONAL"

# --- Static and media -----------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise serves from the finders locally; it warns without the folder
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
    ("vendor/sortablejs", BASE_DIR / "node_modules" / "sortablejs"),
    ("vendor/signature_pad", BASE_DIR / "node_modules" / "signature_pad" / "dist"),
    ("vendor/chartjs", BASE_DIR / "node_modules" / "chart.js" / "dist"),
]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if HTTPS
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True

# --- E-mail ---------------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="no-reply@localhost")
# E-mail channel (integrations.email, docs/channels/email.md). To send through Postmark set
# EMAIL_BACKEND=anymail.backends.postmark.EmailBackend and POSTMARK_SERVER_TOKEN; inbound mail posts to
# /integrations/email/postmark/inbound/ with basic auth ANYMAIL_WEBHOOK_SECRET ("user:password"; unset:
# the webhook refuses everything).
EMAIL_BACKEND = env("EMAIL_BACKEND", default=EMAIL_BACKEND)  # noqa: F821 (set from EMAIL_URL above)
ANYMAIL = {
    "POSTMARK_SERVER_TOKEN": env("POSTMARK_SERVER_TOKEN", default=""),
    "WEBHOOK_SECRET": env("ANYMAIL_WEBHOOK_SECRET", default=""),
}
EMAIL_MAX_ATTEMPTS = env.int("EMAIL_MAX_ATTEMPTS", default=5)

# --- API ------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["users.permissions.DenyAll"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Home-service API",
    "DESCRIPTION": "Customers, properties and (as they land) leads, jobs, invoices and the ledger.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "LostReasonEnum": "crm.models.LostReason",
        "PricebookItemKindEnum": "fsm.pricebook.models.PricebookItem.Kind",
        "PaymentMethodEnum": "fsm.invoices.models.Payment.Method",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "faker": {"level": "WARNING"},
        "django.db.backends": {"level": "INFO"},
        "axes": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},  # its progress ("Step 1 - Fetching...") is INFO, once per PDF
        "fontTools": {"level": "WARNING"},
    },
}
