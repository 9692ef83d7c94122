"""Configuration, read from the environment and nowhere else.

Every setting the application reads from the environment is read here, once. A `.env` file in
the project root is honoured (python-dotenv) but never overrides a variable that is already set.
The README lists every variable.

Three configurations:

* ``DevelopmentConfig`` (``make run``): SQLite in ``instance/``, a secret key generated into
  ``instance/secret_key`` on first start, emails written as files to ``instance/outbox/``.
* ``TestingConfig``: used by the test-suite; the database comes from ``TEST_DATABASE_URL``.
* ``ProductionConfig`` (the default for ``wsgi.py``, i.e. gunicorn): refuses to start without a
  strong ``SECRET_KEY`` and without ``DATABASE_URL``; secure cookies; SMTP for email.
"""

from __future__ import annotations

import os
import re
import secrets
from datetime import timedelta
from pathlib import Path

from dotenv import load_dotenv

ROOT = Path(__file__).resolve().parent
INSTANCE = Path(os.environ.get("CIVIC_INSTANCE_PATH", ROOT / "instance"))

load_dotenv(ROOT / ".env", override=False)

# Secrets that appear in documentation or are otherwise known; production refuses them.
KNOWN_BAD_SECRETS = {"dev", "changeme", "change-me", "secret", "secret-key", "development", "test"}
MIN_SECRET_LENGTH = 32


class ConfigError(RuntimeError):
    """Raised when the environment does not describe a safe configuration."""


def env(name: str, default=None, cast=str):
    """Read one environment variable; an empty string counts as unset."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    raw = raw.strip()
    if cast is bool:
        return raw.lower() in {"1", "true", "yes", "on"}
    try:
        return cast(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a {cast.__name__}, not {raw!r}") from exc


def normalise_database_url(url: str) -> str:
    """Accept the URL forms hosting providers hand out and use psycopg 3 for PostgreSQL."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _development_secret() -> str:
    """A per-checkout secret kept in instance/ so sessions survive restarts in development."""
    path = INSTANCE / "secret_key"
    if path.exists():
        return path.read_text().strip()
    INSTANCE.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def check_secret_key(key: str | None) -> None:
    """Refuse a missing, short, known or single-character secret key."""
    if not key:
        raise ConfigError(
            "SECRET_KEY is not set. Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
    if len(key) < MIN_SECRET_LENGTH or key.lower() in KNOWN_BAD_SECRETS or len(set(key)) < 8:
        raise ConfigError(f"SECRET_KEY is too weak: use at least {MIN_SECRET_LENGTH} random characters.")


_HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


class Config:
    """Settings shared by every environment; values are read when the object is made."""

    ENV_NAME = "base"
    DEMO_ACCOUNTS_ALLOWED = False

    def __init__(self) -> None:
        self.TESTING = False
        self.DEBUG = False

        # --- Council and branding ---------------------------------------------------------
        self.COUNCIL_NAME = env("COUNCIL_NAME", "Greater Northam Combined Authority")
        self.SERVICE_NAME = env("SERVICE_NAME", "Have your say")
        self.COUNCIL_WEBSITE_URL = env("COUNCIL_WEBSITE_URL", "https://www.example.gov.uk")
        self.CONTACT_EMAIL = env("CONTACT_EMAIL", "haveyoursay@example.gov.uk")
        self.DATA_PROTECTION_OFFICER_EMAIL = env("DATA_PROTECTION_OFFICER_EMAIL", "dpo@example.gov.uk")
        self.BRAND_COLOUR = env("BRAND_COLOUR", "#1d70b8")
        self.BASE_URL = env("BASE_URL", "http://127.0.0.1:5000").rstrip("/")

        # --- Database -----------------------------------------------------------------------
        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(env("DATABASE_URL", f"sqlite:///{INSTANCE / 'civic.db'}"))
        self.SQLALCHEMY_TRACK_MODIFICATIONS = False
        self.DATABASE_STATEMENT_TIMEOUT_MS = env("DATABASE_STATEMENT_TIMEOUT_MS", 15000, int)
        self.DATABASE_POOL_SIZE = env("DATABASE_POOL_SIZE", 5, int)
        # SQLite waits this long for the write lock, then tries again SQLITE_LOCK_RETRIES times
        # before answering 503: at most (retries + 1) × timeout, well inside gunicorn's timeout.
        self.SQLITE_BUSY_TIMEOUT_MS = env("SQLITE_BUSY_TIMEOUT_MS", 2000, int)
        self.SQLITE_LOCK_RETRIES = env("SQLITE_LOCK_RETRIES", 2, int)

        # --- Sessions and cookies -----------------------------------------------------------
        self.SECRET_KEY = env("SECRET_KEY")
        self.SESSION_COOKIE_NAME = "civic_session"
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = False
        # A session ends after this long without a request (longer than 20 hours, so WCAG
        # 2.2.1 needs no timeout warning), and in any case after the absolute lifetime.
        self.SESSION_IDLE_TIMEOUT = timedelta(hours=env("SESSION_IDLE_HOURS", 24, int))
        self.PERMANENT_SESSION_LIFETIME = timedelta(days=env("SESSION_MAX_DAYS", 14, int))
        self.WTF_CSRF_TIME_LIMIT = None  # bound to the session, which expires on its own
        self.WTF_CSRF_SSL_STRICT = True
        self.HSTS_SECONDS = 31536000
        # How many reverse proxies in front of the app are trusted for X-Forwarded-*.
        self.TRUSTED_PROXY_COUNT = env("TRUSTED_PROXY_COUNT", 0, int)

        # --- Passwords ----------------------------------------------------------------------
        self.PASSWORD_MIN_LENGTH = 12
        self.ARGON2_TIME_COST = env("ARGON2_TIME_COST", 3, int)
        self.ARGON2_MEMORY_COST = env("ARGON2_MEMORY_COST", 65536, int)
        self.ARGON2_PARALLELISM = env("ARGON2_PARALLELISM", 4, int)
        self.VERIFY_TOKEN_MAX_AGE = timedelta(days=3)
        self.RESET_TOKEN_MAX_AGE = timedelta(hours=1)

        # --- Rate limits (Flask-Limiter) ----------------------------------------------------
        self.RATELIMIT_STORAGE_URI = env("RATELIMIT_STORAGE_URI", "memory://")
        self.RATELIMIT_ENABLED = env("RATELIMIT_ENABLED", True, bool)
        self.RATELIMIT_HEADERS_ENABLED = True
        # Flask-Limiter would put Retry-After (the limit window's reset, up to an hour) on every
        # response of a limited route, including redirects and 503s, where it means something
        # else; the 429 page sets the real Retry-After itself (core/errors_views.py).
        self.RATELIMIT_HEADER_RETRY_AFTER = "X-RateLimit-Retry-After"
        self.RATELIMIT_SIGN_IN_ACCOUNT = env("RATELIMIT_SIGN_IN_ACCOUNT", "10 per 15 minutes")
        self.RATELIMIT_SIGN_IN_ADDRESS = env("RATELIMIT_SIGN_IN_ADDRESS", "30 per 15 minutes")
        self.RATELIMIT_REGISTER = env("RATELIMIT_REGISTER", "10 per hour")
        self.RATELIMIT_RESET = env("RATELIMIT_RESET", "5 per hour")
        self.RATELIMIT_IDEAS = env("RATELIMIT_IDEAS", "5 per hour")  # ideas posted, per account
        self.RATELIMIT_COMMENTS = env("RATELIMIT_COMMENTS", "10 per 10 minutes")  # comments posted, per account
        # If the limiter's storage (Redis) is unreachable, every limit carries on in each
        # process's memory (so it still holds, per process) until Redis answers again; an error
        # in the limiter itself is logged and the request served. Nothing fails closed: see
        # docs/deploy.md ("Redis") for why, limit by limit.
        self.RATELIMIT_SWALLOW_ERRORS = True
        self.RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
        # A Redis that does not answer must not hold a request up for long.
        self.RATELIMIT_STORAGE_OPTIONS = {
            "socket_connect_timeout": env("RATELIMIT_REDIS_TIMEOUT_S", 0.5, float),
            "socket_timeout": env("RATELIMIT_REDIS_TIMEOUT_S", 0.5, float),
        }

        # --- Email --------------------------------------------------------------------------
        self.MAIL_BACKEND = env("MAIL_BACKEND", "file")  # file | smtp | locmem | console
        self.MAIL_FILE_PATH = env("MAIL_FILE_PATH", str(INSTANCE / "outbox"))
        self.MAIL_SERVER = env("MAIL_SERVER", "localhost")
        self.MAIL_PORT = env("MAIL_PORT", 25, int)
        self.MAIL_USERNAME = env("MAIL_USERNAME")
        self.MAIL_PASSWORD = env("MAIL_PASSWORD")
        self.MAIL_USE_TLS = env("MAIL_USE_TLS", False, bool)
        self.MAIL_USE_SSL = env("MAIL_USE_SSL", False, bool)
        self.MAIL_TIMEOUT = env("MAIL_TIMEOUT", 10, int)
        self.MAIL_DEFAULT_SENDER = env("MAIL_DEFAULT_SENDER", "Have your say <no-reply@example.gov.uk>")
        # "immediate": queued emails go out at the end of the request that queued them.
        # "worker": they wait for `flask mail deliver --loop`, so no request waits on SMTP.
        self.MAIL_DELIVERY = env("MAIL_DELIVERY", "immediate")

        # --- Overload (see civic/core/overload.py and gunicorn.conf.py) ------------------------
        # A request that waited longer than this for a thread is answered 503 at once.
        self.OVERLOAD_QUEUE_TIMEOUT_MS = env("OVERLOAD_QUEUE_TIMEOUT_MS", 1000, int)
        self.OVERLOAD_RETRY_AFTER = env("OVERLOAD_RETRY_AFTER", 5, int)

        # --- Statistics and moderation ------------------------------------------------------
        self.DISCLOSURE_THRESHOLD = env("DISCLOSURE_THRESHOLD", 10, int)
        # Distinct residents whose reports hide an item at once and queue it for an officer.
        self.MODERATION_REPORT_THRESHOLD = env("MODERATION_REPORT_THRESHOLD", 3, int)
        # Dashboard figures are rebuilt when older than this (the freshness promise: a minute).
        self.DASHBOARD_MAX_AGE_SECONDS = env("DASHBOARD_MAX_AGE_SECONDS", 60, int)
        # A build's grouped queries read every activity (PostgreSQL, metro scale: seconds each):
        # the build's transaction gets this statement timeout instead of the request one above,
        # and this much memory per grouping, so that it does not spill to disk.
        self.DASHBOARD_BUILD_STATEMENT_TIMEOUT_MS = env("DASHBOARD_BUILD_STATEMENT_TIMEOUT_MS", 120000, int)
        self.DASHBOARD_BUILD_WORK_MEM = env("DASHBOARD_BUILD_WORK_MEM", "128MB")
        # The refresh worker starts each build from the partners the last one withheld (a warm
        # start: the disclosure control redoes only what changed) and builds cold at least this
        # often, so that partners no longer needed are released.
        self.DASHBOARD_COLD_BUILD_SECONDS = env("DASHBOARD_COLD_BUILD_SECONDS", 900, int)
        # Read the publication that `flask dashboards refresh --loop` stores, instead of each
        # app server building its own (civic/dashboards/store.py).
        self.DASHBOARD_STORED_PUBLICATION = env("DASHBOARD_STORED_PUBLICATION", False, bool)

        self.LOG_LEVEL = env("LOG_LEVEL", "INFO")

    def check(self) -> None:
        """Refuse settings that would run the service unsafely; called by the factory."""
        if not _HEX_COLOUR.match(self.BRAND_COLOUR or ""):
            raise ConfigError("BRAND_COLOUR must be a hex colour like #1d70b8")
        if self.MAIL_DELIVERY not in {"immediate", "worker"}:
            raise ConfigError("MAIL_DELIVERY must be 'immediate' or 'worker'")


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    DEMO_ACCOUNTS_ALLOWED = True

    def __init__(self) -> None:
        super().__init__()
        self.SECRET_KEY = self.SECRET_KEY or _development_secret()


class TestingConfig(Config):
    ENV_NAME = "testing"
    DEMO_ACCOUNTS_ALLOWED = True

    def __init__(self) -> None:
        super().__init__()
        self.TESTING = True
        self.SECRET_KEY = "testing-secret-key-that-is-long-enough-0123456789"  # noqa: S105 - tests only
        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(env("TEST_DATABASE_URL", "sqlite://"))
        self.RATELIMIT_STORAGE_URI = "memory://"
        self.MAIL_BACKEND = "locmem"
        self.MAIL_DELIVERY = "immediate"
        self.ARGON2_TIME_COST = 1
        self.ARGON2_MEMORY_COST = 1024
        self.ARGON2_PARALLELISM = 1
        self.BASE_URL = "http://localhost"
        self.DASHBOARD_MAX_AGE_SECONDS = 0  # every test sees the data it has just written
        # Test code reads between requests; it must not hold SQLite's write lock while it does.
        self.SQLITE_IMMEDIATE_OUTSIDE_REQUESTS = False


class ProductionConfig(Config):
    ENV_NAME = "production"

    def __init__(self) -> None:
        super().__init__()
        self.SESSION_COOKIE_SECURE = True
        # The __Host- prefix pins the cookie to this host and path, and to HTTPS.
        self.SESSION_COOKIE_NAME = "__Host-civic_session"
        self.PREFERRED_URL_SCHEME = "https"
        self.MAIL_BACKEND = env("MAIL_BACKEND", "smtp")
        self.MAIL_DELIVERY = env("MAIL_DELIVERY", "worker")

    def check(self) -> None:
        super().check()
        check_secret_key(self.SECRET_KEY)
        if not env("DATABASE_URL"):
            raise ConfigError("DATABASE_URL is not set; production does not fall back to SQLite.")


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_for(name: str | None) -> Config:
    """The configuration object for an environment name (production when unnamed)."""
    try:
        return CONFIGS[(name or "production").lower()]()
    except KeyError as exc:
        raise ConfigError(f"CIVIC_ENV must be one of {', '.join(CONFIGS)}, not {name!r}") from exc
