"""Settings, read from the environment (django-environ).

Defaults give the embedded shape: SQLite under ``var/`` and a Celery broker on a SQLite file, so a
fresh machine needs no services. ``DATABASE_URL`` and ``REDIS_URL`` (or ``CELERY_BROKER_URL``) switch
to the production shape: PostgreSQL and Redis. Defaults are production-safe; ``make run`` sets
``DEBUG=true`` for the local demo.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import environ
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PORTAL_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()
# pytest (>= 8.2) sets PYTEST_VERSION for the whole session, including worker subprocesses.
TESTING = "PYTEST_VERSION" in os.environ

DEBUG = env.bool("DEBUG", default=False)


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once into var/ (never committed)."""
    if key := env.str("SECRET_KEY", default=""):
        return key
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(64))
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_filters",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",  # sign-in throttling (see "Sign-in throttling" below)
    "portal.core",
    "portal.accounts",
    "portal.audit",
    "portal.jobs",
    "portal.api",
    "sites",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "portal.core.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.core.middleware.ActorContextMiddleware",
    "portal.accounts.session_records.SessionActivityMiddleware",  # sessions' last use (#16)
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Near the end: it turns the response of a request that hit the limit into the 429 page.
    "axes.middleware.AxesMiddleware",
    # Innermost, so the JSON error it makes still gets the headers above (CSP, request id).
    "portal.core.middleware.ApiErrorMiddleware",
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
                "portal.core.context_processors.portal",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
SQLITE_DEFAULT = f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"
DATABASES = {"default": env.db("DATABASE_URL", default=SQLITE_DEFAULT)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # WAL lets the web server, the worker and beat read while one of them writes.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
    # A file, not memory, so that worker processes and the live server share the test database;
    # one per test run, so that runs side by side never share one.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-portal-{os.getpid()}.sqlite3")}
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # No JIT compilation: it pays off for long analytic queries, not for a page's short ones
        # (on the 10,000-site dashboard it added 20–40 ms to each query that crossed
        # jit_above_cost). A jit setting in DATABASE_URL's ?options= wins.
        options = DATABASES["default"].setdefault("OPTIONS", {})
        if "jit" not in options.get("options", ""):
            options["options"] = f"{options.get('options', '')} -c jit=off".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
if TESTING:
    # Hashing with the default work factor dominates the suite's run time.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# --- Sign-in throttling (django-axes; portal/accounts/throttling.py, docs/security.md) -----------
# Failed sign-ins, password-reset requests and bad API tokens are counted in the database; after
# LOGIN_FAILURE_LIMIT within LOGIN_LOCKOUT_MINUTES, the username and the IP address are each locked
# out (429) until that long after their last failure, or until support clears them.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
LOGIN_LOCKOUT_MINUTES = env.int("LOGIN_LOCKOUT_MINUTES", default=15)
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses a locked-out request before any hashing
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = "portal.accounts.throttling.lockout_parameters"
AXES_LOCKOUT_CALLABLE = "portal.accounts.throttling.lockout_response"
# A success does not wipe the count: it would wipe the IP's too, so an attacker with one account
# of their own could sign in between guesses and never be locked out.
AXES_RESET_ON_SUCCESS = False
AXES_DISABLE_ACCESS_LOG = True  # successful logins are audit events already
# A refused attempt during a lockout does not restart it, so the time we announce stays true.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False
# The address counted is REMOTE_ADDR, as in the audit trail (django-ipware is not installed).

# Days an invitation link stays valid (portal/accounts/invitations.py, docs/people.md).
INVITATION_DAYS = env.int("INVITATION_DAYS", default=7)

# --- Two-factor authentication (portal/mfa, docs/people.md) ----------------------------------------
# TOTP, security keys and passkeys, with recovery codes. After the password, a person who has it
# on enters a code (or uses a key) once per session (the middleware sends every page to the verify
# page; failures count toward the lockout above); a person whose role is in MFA_REQUIRED_ROLES,
# or whose organisation requires it, is sent to enrol first. The middleware comes after
# authentication and axes.
INSTALLED_APPS += ["portal.mfa"]
MIDDLEWARE += ["portal.mfa.middleware.SecondFactorMiddleware"]
MFA_ISSUER = env.str("MFA_ISSUER", default="Firewall rollout portal")  # the name apps show
MFA_REQUIRED_ROLES = env.list(
    "MFA_REQUIRED_ROLES", default=["reseller_admin", "support", "operator"]
)
# Fernet keys that seal TOTP secrets at rest, newest first (portal/mfa/sealing.py); unset: one
# key derived from SECRET_KEY.
MFA_SECRET_KEYS = env.list("MFA_SECRET_KEYS", default=[])
# Security keys and passkeys (WebAuthn) beside TOTP: the relying party is PORTAL_URL (its host name
# is the RP ID, its scheme://host[:port] the one origin accepted; portal/mfa/passkeys.py). A
# ceremony's challenge is single-use and expires after this long.
WEBAUTHN_CHALLENGE_SECONDS = env.int("WEBAUTHN_CHALLENGE_SECONDS", default=300)

# --- Single sign-on (portal/sso, docs/people.md) ---------------------------------------------------
# OpenID Connect providers: a JSON list of {name, issuer, client_id, client_secret, mapping, …};
# or, for one provider, OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_DISPLAY_NAME and
# OIDC_MAPPING. Unset: no "Sign in with …" button, passwords only. Checked at start-up.
INSTALLED_APPS += ["portal.sso"]
OIDC_PROVIDERS = env.json("OIDC_PROVIDERS", default=[])
if oidc_issuer := env.str("OIDC_ISSUER", default=""):
    OIDC_PROVIDERS = [
        *OIDC_PROVIDERS,
        {
            "slug": "oidc",
            "name": env.str("OIDC_DISPLAY_NAME", default="single sign-on"),
            "issuer": oidc_issuer,
            "client_id": env.str("OIDC_CLIENT_ID", default=""),
            "client_secret": env.str("OIDC_CLIENT_SECRET", default=""),
            "mapping": env.json("OIDC_MAPPING", default=[]),
            "link_existing_accounts": env.bool("OIDC_LINK_EXISTING_ACCOUNTS", default=False),
            "mfa_amr": env.list("OIDC_MFA_AMR", default=[]),
        },
    ]

# Django 6.1 mailers. Password-reset mail goes to the console unless SMTP is configured.
if smtp_host := env.str("SMTP_HOST", default=""):
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": smtp_host,
                "port": env.int("SMTP_PORT", default=587),
                "username": env.str("SMTP_USER", default=""),
                "password": env.str("SMTP_PASSWORD", default=""),
                "use_tls": env.bool("SMTP_TLS", default=True),
            },
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="portal@localhost")
# The portal's public address, for links in mails sent by workers (no request to build them from).
PORTAL_URL = env.str("PORTAL_URL", default="http://127.0.0.1:8000")

# --- Internationalisation ---------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Static files (whitenoise) ------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns about a missing root even when using finders
STATICFILES_DIRS = [BASE_DIR / "static"]
_static_backend = (
    "django.contrib.staticfiles.storage.StaticFilesStorage"
    if DEBUG or TESTING
    else "whitenoise.storage.CompressedManifestStaticFilesStorage"
)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": _static_backend},
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING

# --- Security (production defaults; relaxed only for DEBUG and the test suite) ------------------
_https = not (DEBUG or TESTING) and env.bool("HTTPS", default=True)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=_https)
SESSION_COOKIE_SECURE = _https
CSRF_COOKIE_SECURE = _https
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if _https else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _https
SECURE_HSTS_PRELOAD = _https
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Content-Security-Policy (every page; docs/security.md) -----------------------------------
# Scripts, styles and images come from the portal itself: no inline script, handler or style
# (templates use data attributes that static/js/portal.js reads). The Swagger UI shows its icons
# as data: images.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

# --- Celery ------------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")

# --- Caches and sessions (a request's session and the person's grants without a query) ----------
# "default" stays in each process's memory (render caches keyed by what they show). With Redis,
# sessions are cached_db (read from Redis, written to both) and "actors" keeps each person's
# grants (portal.accounts.actor_cache); without it nothing is kept between processes, since one
# process could not tell another of a change. The tests get a key prefix of their own per run.
_LOCAL = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
if REDIS_URL:
    _REDIS = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": f"portal-test-{os.getpid()}" if TESTING else "portal",
    }
    CACHES = {"default": _LOCAL, "sessions": _REDIS, "actors": _REDIS}
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    SESSION_CACHE_ALIAS = "sessions"
else:
    CACHES = {
        "default": _LOCAL,
        "actors": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
    }
# Each test run gets its own embedded broker file, so neither a running `make run` nor another
# run takes its tasks (tests/conftest.py removes it at the end).
_EMBEDDED_BROKER = VAR_DIR / (
    f"celery-broker-test-{os.getpid()}.sqlite3" if TESTING else "celery-broker.sqlite3"
)
CELERY_BROKER_URL = env.str(
    "CELERY_BROKER_URL", default=REDIS_URL or f"sqla+sqlite:///{_EMBEDDED_BROKER}"
)
CELERY_TASK_ACKS_LATE = True  # a task is acknowledged only when it has finished...
CELERY_TASK_REJECT_ON_WORKER_LOST = True  # ...and a killed worker's task goes back to the queue
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A pasted firewall configuration (sites.views.analysis) is a form field of up to 5 MB, the
# analyzer's limit; Django's default (2.5 MB) would refuse it with a bare 400 before the form.
DATA_UPLOAD_MAX_MEMORY_SIZE = 6 * 1024 * 1024

CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=600)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=540)
JOB_REQUEUE_AFTER = env.int("JOB_REQUEUE_AFTER", default=120)  # seconds queued, then sent again
# Job state lives in the database (portal.jobs), so the broker keeps no results.
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # Redis hands an unacknowledged task (its worker died) to another worker after this long.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT * 2}
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="portal")
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "mark-stalled-jobs": {"task": "portal.jobs.tasks.fail_stalled_jobs", "schedule": 300.0},
    "expire-probe-runs": {"task": "sites.tasks.expire_probe_runs", "schedule": 60.0},
    "requeue-lost-jobs": {"task": "portal.jobs.tasks.requeue_lost_jobs", "schedule": 60.0},
    "requeue-stuck-jobs": {"task": "portal.jobs.tasks.requeue_stuck_jobs", "schedule": 60.0},
    "flag-sites": {"task": "sites.tasks.flag_sites", "schedule": 3600.0},
    "requeue-stuck-inbound-runs": {
        "task": "sites.tasks.requeue_stuck_inbound_runs",
        "schedule": 60.0,
    },
    # A site's regeneration has no job row: re-send it when its instructions still lag its
    # description JOB_REQUEUE_AFTER seconds after a change (sites.tasks).
    "requeue-lost-regenerations": {
        "task": "sites.tasks.requeue_lost_regenerations",
        "schedule": 60.0,
    },
    # Configuration checks: lost messages sent again, stalled workers' checks failed.
    "sweep-config-analyses": {"task": "sites.tasks.sweep_config_analyses", "schedule": 60.0},
    # Monitoring access: reminders 30 and 7 days before it ends, removal on the day
    # (sites.services.expiry); each once, however often it runs.
    "expire-monitoring-access": {
        "task": "sites.tasks.expire_monitoring_access",
        "schedule": 3600.0,
    },
}

# --- REST API (DRF, OpenAPI by drf-spectacular, Swagger UI served from our own static files) ---
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # A personal token first (so an anonymous request is a 401), then the browser's session (CSRF).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "portal.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Each API view asks the permission module too (portal.api.tenancy); this is the floor.
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Firewall rollout portal API",
    "DESCRIPTION": "Sites, instruction sets, rollout steps, probe runs and the audit trail.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Two fields are called "source": the audit event's (web, api, worker…) and the probe run's.
    "ENUM_NAME_OVERRIDES": {
        "AuditSourceEnum": "portal.audit.context.Source.CHOICES",
        "ProbeSourceEnum": "sites.models.probe.ProbeSource",
        "PlanKindEnum": "sites.models.instruction_set.PlanKind",
    },
}

# --- Probes ---------------------------------------------------------------------------------------
# Signs probe tokens; derived from SECRET_KEY when unset (set it to rotate probe tokens alone).
PROBE_TOKEN_KEY = env.str("PROBE_TOKEN_KEY", default="")
PROBE_TOKEN_TTL = env.int("PROBE_TOKEN_TTL", default=30 * 60)  # seconds a probe token is valid
# Proof requests (#13): days a run opened by "Ask customers to prove again" stays open (its token
# too): the customer is mailed and needs time; and days without a rollout change before a site is
# flagged "rollout stalled" on the dashboard.
PROOF_REQUEST_DAYS = env.int("PROOF_REQUEST_DAYS", default=7)
ROLLOUT_STALLED_DAYS = env.int("ROLLOUT_STALLED_DAYS", default=7)
# The site dashboard's headline counts (needs attention, never proven…) read every site of the
# page, so a worker counts them (sites.services.dashboard_counts); a page asks for a new count
# once its person's are this many seconds old, and shows when they were counted. 0: every page
# load counts them itself (the test suite's default).
DASHBOARD_COUNTS_SECONDS = env.int("DASHBOARD_COUNTS_SECONDS", default=0 if TESTING else 60)
# Where probe clients connect (shown in their snippets) and where the responder listens. An IPv4
# address here is also named in every site's instructions, and must lie inside each service
# profile's datacenter networks (the outbound rules only let the probe reach those; sites.checks).
PROBE_RESPONDER_HOST = env.str("PROBE_RESPONDER_HOST", default="127.0.0.1")
PROBE_RESPONDER_BIND = env.str("PROBE_RESPONDER_BIND", default="127.0.0.1")
# The public IPv4 address the inbound checks (the workers) connect from. Sites whose monitoring is
# restricted to given sources let it in too, so their firewall passes the portal's check; unset,
# the instructions ask the customer to let "the portal's address" in by hand.
PROBE_CHECK_SOURCE = env.str("PROBE_CHECK_SOURCE", default="")
# Probe responder: TCP connections one source may hold while waiting for their line (#14).
PROBE_RESPONDER_MAX_CONNECTIONS_PER_SOURCE = env.int(
    "PROBE_RESPONDER_MAX_CONNECTIONS_PER_SOURCE", default=32
)


# Profile port -> port the responder really listens on, e.g. "tcp/4401=14401,udp/4403=14403"
# (tests and labs use high ports; production listens on the profile's own ports).
def _port_map(variable: str) -> dict[str, int]:
    items = (item.split("=", 1) for item in env.list(variable, default=[]) if "=" in item)
    return {key.strip(): int(value) for key, value in items}


PROBE_PORT_MAP = _port_map("PROBE_PORT_MAP")
# The same for inbound checks: the port the site's listener really answers on (labs and tests).
PROBE_INBOUND_PORT_MAP = _port_map("PROBE_INBOUND_PORT_MAP")
# Inbound probes go to loopback, private, documentation… addresses only in labs and tests.
PROBE_ALLOW_PRIVATE = env.bool("PROBE_ALLOW_PRIVATE", default=False)
# A site's public address is refused where an inbound probe would refuse it. Loopback, private,
# shared and documentation addresses pass in labs (PROBE_ALLOW_PRIVATE), and in the demo and the
# tests, whose example sites use documentation addresses (192.0.2.0/24); never in production.
SITE_ALLOW_LAB_ADDRESSES = env.bool(
    "SITE_ALLOW_LAB_ADDRESSES", default=PROBE_ALLOW_PRIVATE or DEBUG or TESTING
)
PROBE_RATE_WINDOW = env.int("PROBE_RATE_WINDOW", default=600)  # seconds
PROBE_RUNS_PER_SITE = env.int("PROBE_RUNS_PER_SITE", default=10)
PROBE_RUNS_PER_ORGANISATION = env.int("PROBE_RUNS_PER_ORGANISATION", default=100)

# --- Logging: every line carries the request id --------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "portal.core.logging.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "plain",
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # 403s are audit events and 404s are normal; only server errors need a traceback in the log.
    # axes logs each counted failure at INFO; a lockout is a WARNING (and an audit event).
    "loggers": {"django.request": {"level": "ERROR"}, "axes": {"level": "WARNING"}},
}

from importlib.metadata import version as _package_version  # noqa: E402

PORTAL_VERSION = _package_version("firewall-rollout-portal")
