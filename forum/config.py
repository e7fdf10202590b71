"""Configuration defaults: the one table of every setting Plaza reads and its default.

Order of precedence (lowest first): these defaults, ``instance/config.py``,
``FORUM_*`` environment variables (``app.config.from_prefixed_env("FORUM")``),
and finally the mapping handed to ``create_app`` (tests). Code reads
``current_app.config["NAME"]``, never a default of its own; a new setting is added
here and to the README's settings table (tests/test_config.py compares the two).
"""

from datetime import timedelta


class Defaults:
    # Safe by default: anything but an explicit "development" or "testing" runs as
    # production, where ``check_production_settings`` refuses unsafe settings (no key,
    # sandbox payments). Development gets a random key kept in the instance folder.
    ENV = "production"
    SECRET_KEY = None
    # Behind a reverse proxy, how many proxies set each X-Forwarded-* header (werkzeug's
    # ProxyFix). 0 (the default) trusts none: the client address is the socket's peer.
    PROXY_FIX_X_FOR = 0
    PROXY_FIX_X_PROTO = 0
    PROXY_FIX_X_HOST = 0
    PROXY_FIX_X_PORT = 0
    PROXY_FIX_X_PREFIX = 0
    SQLALCHEMY_DATABASE_URI = None  # filled in with instance/plaza.sqlite3
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    SQLALCHEMY_RECORD_QUERIES = False

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_DURATION = timedelta(days=30)
    PERMANENT_SESSION_LIFETIME = timedelta(days=14)

    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session

    # Rate limits. RATELIMIT_ENABLED switches off Flask-Limiter *and* our own
    # per-user posting/chat limits (benchmarks and acceptance suites).
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    # Redis down: count in each process's memory (logged) instead of failing every
    # limited request with a 500; Flask-Limiter switches back once Redis answers.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    LOGIN_LIMIT_PER_IP = "20/minute;100/hour"
    # Failed logins per (account, client address): a stranger guessing a password locks
    # out only their own address, never the owner logging in from elsewhere. Failures
    # from one address over all accounts are capped by LOGIN_FAILURES_PER_IP.
    LOGIN_LIMIT_PER_ACCOUNT = "5/minute;30/hour"
    LOGIN_FAILURES_PER_IP = "30/minute;200/hour"
    POST_LIMIT = "10/minute;200/day"
    PREVIEW_LIMIT = "20/minute;300/hour"  # per member: each preview renders a whole body
    CHAT_MESSAGE_LIMIT = "5/10second"
    CHAT_EVENT_LIMIT = "120/minute"  # joins, syncs, reads... per member and event kind
    CHAT_TYPING_LIMIT = "20/10second"
    # Socket handshakes per client address, both namespaces together (a page opens two):
    # stops reconnect loops and floods, roomy enough for an office behind one NAT.
    SOCKET_CONNECT_LIMIT = "120/minute;2000/hour"

    # Realtime: a Redis URL lets several server processes share Socket.IO rooms.
    SOCKETIO_MESSAGE_QUEUE = None
    SOCKETIO_CHANNEL = "plaza-socketio"
    SOCKETIO_CORS_ALLOWED_ORIGINS: list | None = None  # None: same origin only
    SOCKETIO_ASYNC_MODE = "threading"
    CHAT_MAX_MESSAGE_LENGTH = 2000
    CHAT_PRESENCE_TTL_SECONDS = 90  # clients send a heartbeat every 30 s
    CHAT_HISTORY_PAGE = 50  # messages per page on the chat page

    # Background tasks on Celery (forum/tasks.py). CELERY holds Celery's own settings
    # (broker_url, result_backend, ...; env: FORUM_CELERY__BROKER_URL=redis://...).
    # Without a broker tasks run where they are called, and JOBS_IN_PROCESS runs the
    # periodic ones (expiry of holds, reminders) in a thread of `flask serve` (make run).
    JOBS_IN_PROCESS = False
    JOBS_INTERVAL_SECONDS = 15

    POSTS_PER_PAGE = 20
    THREADS_PER_PAGE = 25
    POST_MAX_LENGTH = 50_000
    EDIT_WINDOW_FOR_MEMBERS = None  # None: authors may always edit

    # Accounts: werkzeug's password hash (tests and the demo use a cheaper one).
    PASSWORD_HASH_METHOD = "scrypt"  # noqa: S105  (a hash method, not a password)

    PAYMENTS_SANDBOX = True
    ORDER_PAYMENT_WINDOW_MINUTES = 30
    ORDER_OFFLINE_PAYMENT_WINDOW_HOURS = 72
    # Unpaid units one buyer may hold of one product at a time, over all their orders:
    # one account can no longer hold a whole stock.
    SHOP_MAX_HELD_UNITS = 20
    SHOP_MAX_PENDING_ORDERS = 5  # unpaid live orders per buyer
    SHOP_ORDER_LIMIT = "10/minute;100/day"  # new orders per buyer
    SNAP_PAYMENT_WINDOW_MINUTES = 10

    EVENTS_REMINDER_HOURS = 24  # reminders go out this long before an event starts

    ATTRIBUTION_WINDOW_DAYS = 7
    ATTRIBUTION_CLICK_DEDUPE_SECONDS = 30
    ATTRIBUTION_LOCK_DAYS = 14
    ATTRIBUTION_AUTHOR_SHARE_BP = 5000
    ATTRIBUTION_IMPRESSIONS_ENABLED = True
    ATTRIBUTION_REDIS_URL = None
    # Sign-up CPA velocity: more attributed registrations than this from one address,
    # or through one link, within the period wait for the merchant's review.
    ATTRIBUTION_SIGNUP_VELOCITY_HOURS = 24
    ATTRIBUTION_SIGNUPS_PER_ADDRESS = 1
    ATTRIBUTION_SIGNUPS_PER_LINK = 5

    MAIL_SERVER = None  # mail is optional; without it notifications stay in-app
    MAIL_DEFAULT_SENDER = "plaza@localhost"

    # Seconds a client is asked to wait (Retry-After) when the database is unavailable.
    RETRY_AFTER_SECONDS = 30

    MAX_CONTENT_LENGTH = 8 * 1024 * 1024
    UPLOAD_MAX_BYTES = 2 * 1024 * 1024
    UPLOAD_DECODE_WAIT_SECONDS = 20

    CONTENT_SECURITY_POLICY = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    )


class ProductionSettingsError(RuntimeError):
    """Raised at start-up when production runs with an unsafe setting."""


NON_PRODUCTION_ENVS = ("development", "testing")


def normalise_env(config) -> None:
    """Anything that is not explicitly development or testing is production."""
    if config.get("ENV") not in NON_PRODUCTION_ENVS:
        config["ENV"] = "production"


def check_production_settings(config) -> None:
    if config.get("ENV") != "production":
        return
    if not config.get("SECRET_KEY"):
        raise ProductionSettingsError("FORUM_SECRET_KEY must be set in production")
    if config.get("PAYMENTS_SANDBOX"):
        raise ProductionSettingsError("PAYMENTS_SANDBOX must be false in production")
    if str(config.get("RATELIMIT_STORAGE_URI", "")).startswith("memory://") and config.get(
        "SOCKETIO_MESSAGE_QUEUE"
    ):
        raise ProductionSettingsError(
            "with several processes, FORUM_RATELIMIT_STORAGE_URI must point at Redis"
        )
