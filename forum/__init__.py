"""Plaza: a community forum where commerce lives inside the conversation."""

import os
from importlib import import_module

from flask import Flask

from .config import Defaults, check_production_settings, normalise_env

# Each feature package exposes ``views.bp`` and may define ``init_app(app)`` (its signal
# receivers, template helpers); the API modules register themselves on ``api.bp``.
# Socket.IO handlers are declared on import of the SOCKET_MODULES, before the server exists.
FEATURES = (
    "accounts",
    "board",
    "notifications",
    "moderation",
    "members",
    "members.coupons",
    "pages",
    "events",
    "shop_embed",
    "chat",
    "promotions",
    "attribution",
    "reviews",
    "campaigns",
    "trust",
    "search",
    "attachments",
    "insight",
    "recommend",
    "social",
)
SOCKET_MODULES: tuple[str, ...] = ("live.sockets", "chat.sockets")


def create_app(config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder="../templates",
        static_folder="../static",
        instance_relative_config=True,
    )
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("FORUM")
    if config:
        app.config.update(config)
    normalise_env(app.config)
    _fill_local_defaults(app)
    # A connection the database dropped (restart, failover) is replaced before use.
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        "pool_pre_ping": True,
        **(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {}),
    }
    check_production_settings(app.config)

    from . import cli, http, pagecache, realtime, tasks, templating
    from .extensions import csrf, db, limiter, login_manager, mail, migrate, socketio

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(app.root_path, "..", "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    mail.init_app(app)
    pagecache.init_app(app)
    # Socket handlers must be imported before the server exists: Flask-SocketIO keeps
    # handlers declared earlier and re-attaches them to every app's server.
    for name in SOCKET_MODULES:
        import_module(f".{name}", __name__)

    socketio.init_app(
        app,
        # In-process or through SOCKETIO_MESSAGE_QUEUE (SOCKETIO_CHANNEL: one per deployment
        # sharing a Redis); closing a user's room closes their sockets in every process.
        client_manager=realtime.client_manager(app),
        cors_allowed_origins=app.config["SOCKETIO_CORS_ALLOWED_ORIGINS"],  # None: same origin only
        async_mode=app.config["SOCKETIO_ASYNC_MODE"],
        logger=False,
        engineio_logger=False,
    )

    http.register_converters(app)
    for name in FEATURES:
        app.register_blueprint(import_module(f".{name}.views", __name__).bp)
    # Each feature connects its receivers of ``forum.signals`` (and template globals) in its init_app.
    for name in FEATURES:
        module = import_module(f".{name}", __name__)
        if hasattr(module, "init_app"):
            module.init_app(app)
    from .api import bp as api_bp

    app.register_blueprint(api_bp)

    _trust_proxies(app)
    http.init_app(app)
    templating.init_app(app)
    cli.init_app(app)
    tasks.celery_init_app(app)
    return app


def _trust_proxies(app: Flask) -> None:
    """Behind N reverse proxies (FORUM_PROXY_FIX_X_FOR=N...), take the client's address,
    scheme and host from their X-Forwarded-* headers (werkzeug's ProxyFix), so per-address
    limits count clients, not the proxy. Zero (the default) trusts no such header."""
    counts = {
        name: int(app.config.get(f"PROXY_FIX_{name.upper()}") or 0)
        for name in ("x_for", "x_proto", "x_host", "x_port", "x_prefix")
    }
    if any(counts.values()):
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, **counts)  # type: ignore[method-assign]


DEV_KEY_FILENAME = "secret_key"  # in the instance folder


def _fill_local_defaults(app: Flask) -> None:
    """Development and tests get an instance-folder SQLite file and a random key."""
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        path = os.path.join(app.instance_path, "plaza.sqlite3")
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    if app.config["ENV"] != "production":
        if not app.config.get("SECRET_KEY"):
            app.config["SECRET_KEY"] = _instance_secret_key(app.instance_path)
        # Local development runs over plain http://127.0.0.1; elsewhere cookies are Secure.
        if app.config["ENV"] == "development" and "FORUM_SESSION_COOKIE_SECURE" not in os.environ:
            app.config["SESSION_COOKIE_SECURE"] = False
            app.config["REMEMBER_COOKIE_SECURE"] = False


def _instance_secret_key(instance_path: str) -> str:
    """A random key made once and kept in ``instance/secret_key`` (owner-only), so
    development sessions survive restarts and nobody can guess the key."""
    import secrets

    path = os.path.join(instance_path, DEV_KEY_FILENAME)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        with open(path, encoding="ascii") as existing:
            key = existing.read().strip()
        if key:
            return key
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    key = secrets.token_hex(32)
    with os.fdopen(fd, "w", encoding="ascii") as new:
        new.write(key)
    return key
