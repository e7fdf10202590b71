"""Plaza: a community forum where commerce lives inside the conversation."""

import os
from importlib import import_module

from flask import Flask

from .config import Defaults, check_production_settings

# Each feature package exposes ``views.bp``; the API modules register themselves on
# ``api.bp``. Sockets register on import of ``<feature>.sockets``.
FEATURES = (
    "accounts",
    "board",
    "notifications",
    "moderation",
    "members",
    "pages",
    "events",
    "shop_embed",
    "chat",
    "promotions",
    "attribution",
)
SOCKET_MODULES: tuple[str, ...] = ("live.sockets", "events.sockets", "chat.sockets")


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
    _fill_local_defaults(app)
    check_production_settings(app.config)

    from . import cli, http, templating
    from .extensions import csrf, db, limiter, login_manager, migrate, socketio

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(app.root_path, "..", "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    # Socket handlers must be imported before the server exists: Flask-SocketIO keeps
    # handlers declared earlier and re-attaches them to every app's server.
    for name in SOCKET_MODULES:
        import_module(f".{name}", __name__)
    from .realtime import queue_options

    socketio.init_app(
        app,
        message_queue=app.config["SOCKETIO_MESSAGE_QUEUE"],
        **queue_options(app.config),  # Redis pushes that fail are reported (realtime.py)
        channel=app.config["SOCKETIO_CHANNEL"],  # one per deployment sharing a Redis
        cors_allowed_origins=app.config["SOCKETIO_CORS_ALLOWED_ORIGINS"],  # None: same origin only
        async_mode=app.config.get("SOCKETIO_ASYNC_MODE", "threading"),
        logger=False,
        engineio_logger=False,
    )

    http.register_converters(app)
    for name in FEATURES:
        app.register_blueprint(import_module(f".{name}.views", __name__).bp)
    from .api import bp as api_bp

    app.register_blueprint(api_bp)

    http.init_app(app)
    templating.init_app(app)
    cli.init_app(app)
    return app


def _fill_local_defaults(app: Flask) -> None:
    """Development and tests get an instance-folder SQLite file and a throwaway key."""
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        path = os.path.join(app.instance_path, "plaza.sqlite3")
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    if app.config["ENV"] != "production":
        if not app.config.get("SECRET_KEY"):
            app.config["SECRET_KEY"] = "dev-only-" + app.instance_path
        # Local development runs over plain http://127.0.0.1; elsewhere cookies are Secure.
        if app.config["ENV"] == "development" and "FORUM_SESSION_COOKIE_SECURE" not in os.environ:
            app.config["SESSION_COOKIE_SECURE"] = False
            app.config["REMEMBER_COOKIE_SECURE"] = False
