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
    # Search pages rendered per client address: each new query is rendered and, for a visitor,
    # kept, so a script cycling queries must not fill the page cache.
    SEARCH_LIMIT = "60/minute;600/hour"
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
    AUCTION_PAYMENT_WINDOW_MINUTES = 10  # a Dutch auction's unit waits this long for payment
    GUESS_PAYMENT_WINDOW_MINUTES = 60  # a guessing game's winner has this long to pay
    GUESS_REFUND_WITHOUT_WINNER = True  # no unique guess: every guess's points come back

    EVENTS_REMINDER_HOURS = 24  # reminders go out this long before an event starts

    ATTRIBUTION_WINDOW_DAYS = 7
    ATTRIBUTION_HALF_LIFE_HOURS = 168  # the time-decay credit model's half-life
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
    REBATE_LOCK_DAYS = 14  # a VIP rebate becomes spendable credit this long after completion
    RETURN_WINDOW_DAYS = 30  # a completed order can be refunded this long after completion
    MEMBERS_CURRENCY = "USD"  # the currency of tier spend thresholds and the VIP report

    # Reviews and experience reports (forum/reviews): the site's store credit per review
    # and per approved report (their points are members' "review" and "report" earning
    # rules; merchants may top either up), the same for every rating; the reminder to
    # review a completed order goes out this many days after the invitation.
    REVIEW_REWARD_CREDIT_CENTS = 0
    REPORT_REWARD_CREDIT_CENTS = 0
    REVIEW_REMINDER_DAYS = 3
    REVIEW_LIMIT = "10/hour;30/day"  # new reviews per member

    # Moderation: defaults for the site settings an admin edits at /admin/settings.
    SITE_NAME = "Plaza"
    # A flag adds 10 x (1 + the flagger's trust level) x their accuracy factor (0.5 for a
    # flagger with no decided flags yet) to its item's score; past this, it is hidden.
    FLAG_HIDE_SCORE = 40
    # A new account's first N posts wait in the review queue (0: none).
    FIRST_POSTS_HELD = 2
    FLAG_LIMIT = "20/hour;60/day"  # flags per member
    # Trust levels (forum/trust): what a trust level 0 member may not do yet (lifted at TL1).
    TRUST_NEWCOMER_MAX_LINKS = 2  # per post or edit
    TRUST_NEWCOMER_MAX_IMAGES = 0
    TRUST_NEWCOMER_MAX_MENTIONS = 2  # each @mention notifies someone
    TRUST_DIRECT_MESSAGE_LEVEL = 1  # opening a direct conversation
    TRUST_NEW_ROOM_LEVEL = 1  # creating chat rooms
    TRUST_NEWCOMER_POST_LIMIT = (
        "1/30second;30/day"  # NodeBB-like newbie delay, on top of POST_LIMIT
    )
    TRUST_NEWCOMER_CHAT_LIMIT = "1/3second;300/day"
    TRUST_RECENT_WINDOW_DAYS = 100
    TRUST_READ_SECONDS_PER_DAY = 3600  # reading time credited per member per day (UTC)
    # Badges (forum/trust/service/badges.py).
    BADGE_HELPFUL_LIKES = 3  # likes on one reply
    BADGE_WELCOMER_NEWCOMERS = 3  # first threads of new members replied to
    BADGE_NEWCOMER_DAYS = 14  # "new member" for the welcomer badge
    BADGE_EVENT_REGULAR_EVENTS = (
        3  # events checked in at  # TL3's "sustained" window (recent visits, flags)
    )
    BADGE_TRUSTED_REVIEWER_REVIEWS = 3  # published reviews (not hidden, not deleted)...
    BADGE_TRUSTED_REVIEWER_HELPFUL = 2  # ...each found helpful by this many members
    # Commerce gates: a minimum trust level and/or account age (days); 0 and 0 is off.
    TRUST_GATE_SNAP_LEVEL = 0  # taking snap-up units
    TRUST_GATE_SNAP_AGE_DAYS = 0
    TRUST_GATE_AUCTION_LEVEL = 0  # taking Dutch auction units
    TRUST_GATE_AUCTION_AGE_DAYS = 0
    TRUST_GATE_GUESS_LEVEL = 0  # guessing-game guesses
    TRUST_GATE_GUESS_AGE_DAYS = 0
    TRUST_GATE_TEAM_LEVEL = 0  # joining group-buy teams
    TRUST_GATE_TEAM_AGE_DAYS = 0
    TRUST_GATE_COMMISSION_LEVEL = 0  # earning commission and CPA as an author
    TRUST_GATE_COMMISSION_AGE_DAYS = 0
    TRUST_GATE_REFERRAL_LEVEL = 0  # a referred member's own sign-up CPA
    TRUST_GATE_REFERRAL_AGE_DAYS = 0

    # The site's public address for links in mail sent by background tasks
    # (e.g. "https://plaza.example"); unset, they point at http://localhost.
    SITE_URL = None
    MAIL_SERVER = None  # mail is optional; without it notifications stay in-app
    MAIL_DEFAULT_SENDER = "plaza@localhost"
    # Development: an aiosmtpd sink in a thread of `flask serve` (make run sets it) keeps
    # every message in a Maildir, shown with the SMS outbox at /dev/outbox.
    MAIL_SINK = False
    MAIL_SINK_PORT = 8025
    MAIL_SINK_DIR = None  # default instance/mail-sink

    # Campaigns and account email (forum/campaigns).
    MARKETING_EMAIL_DEFAULT = True  # opt-out where the law allows; False: opt-in
    CAMPAIGN_FREQUENCY_CAP_PER_WEEK = 3  # campaign messages per member per 7 days
    CAMPAIGN_BATCH_SIZE = 500
    # Send rates for the whole site, shared by all workers through a Redis token bucket
    # (forum/campaigns/service/pacing.py); 0: as fast as the server takes.
    CAMPAIGN_EMAIL_PER_SECOND = 0
    CAMPAIGN_SMS_PER_SECOND = 10
    CAMPAIGN_RATE_REDIS_URL = None  # None: the Celery broker when it is Redis
    CAMPAIGN_RATE_FALLBACK_SHARE = 0.25  # Redis down: each worker alone at this share
    # Bounces (forum/campaigns/service/bounces.py): soft bounces before an address is
    # suppressed (a hard bounce suppresses at once), counted over this many days.
    CAMPAIGN_SOFT_BOUNCE_LIMIT = 3
    CAMPAIGN_SOFT_BOUNCE_DAYS = 30
    # Who `flask campaigns bounce-receiver` accepts mail for; None: MAIL_DEFAULT_SENDER.
    CAMPAIGN_BOUNCE_ADDRESS = None
    CAMPAIGN_CLAIM_TIMEOUT_MINUTES = 30
    CAMPAIGN_REPORT_DAYS = 14  # the window orders count in for the lift vs holdout
    EVALUATION_MARGIN_BP = 3000  # promotion ROI: the margin on incremental revenue (basis points)
    CAMPAIGN_CURRENCY = "USD"  # the currency campaign messages show credit offers in
    SMS_QUIET_START_HOUR = 21  # no marketing SMS 21:00-09:00 in the member's time zone
    SMS_QUIET_END_HOUR = 9
    SMS_PROVIDER = "sandbox"  # or "twilio"
    TWILIO_ACCOUNT_SID = None
    TWILIO_AUTH_TOKEN = None
    TWILIO_FROM = None
    TWILIO_BASE_URL = None  # tests point the official client at a local stand-in
    EMAIL_VERIFY_HOURS = 72
    PASSWORD_RESET_HOURS = 1
    EMAIL_CHANGE_HOURS = 24
    PASSWORD_RESET_LIMIT = "5/minute;30/hour"  # noqa: S105 (a rate, per client address)
    # True: background tasks run in the calling process even with a broker configured.
    TASKS_EAGER = False

    # Seconds a client is asked to wait (Retry-After) when the database is unavailable.
    RETRY_AFTER_SECONDS = 30

    MAX_CONTENT_LENGTH = 8 * 1024 * 1024
    UPLOAD_MAX_BYTES = 2 * 1024 * 1024
    UPLOAD_DECODE_WAIT_SECONDS = 20
    UPLOAD_STORAGE = ""  # dotted path to a forum.uploads.Storage factory; "" = instance folder
    ATTACHMENT_LIMIT = "20/minute;200/day"  # images uploaded for posts and chat, per member
    ATTACHMENT_LIMIT_PER_IP = "30/minute;400/day"

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
