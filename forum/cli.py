"""Flask commands: users, demo data, periodic tasks and the server."""

import os

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from .extensions import db


def init_app(app: Flask) -> None:
    app.cli.add_command(users)
    app.cli.add_command(demo_command)
    app.cli.add_command(jobs_group)
    app.cli.add_command(serve)
    app.cli.add_command(search_group)
    app.cli.add_command(bench_group)


@click.group(help="Manage users.")
def users():
    pass


@users.command("create")
@click.argument("username")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option(
    "--role", type=click.Choice(["member", "moderator", "merchant", "admin"]), default="member"
)
@with_appcontext
def create_user(username, email, password, role):
    """Create a user with a role (privileged users are made here, never by sign-up)."""
    from .accounts import service
    from .errors import ServiceError

    try:
        user = service.register(username, email, password, role=role)
    except ServiceError as err:
        db.session.rollback()
        details = "; ".join(f"{k}: {' '.join(v)}" for k, v in err.fields.items())
        raise click.ClickException(f"{err.message} {details}".strip()) from None
    db.session.commit()
    click.echo(f"created {user.username} ({role})")


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has users.")
@click.option("--reset", is_flag=True, help="Drop every table and rebuild the schema first.")
@click.option("--seed", default=7, show_default=True)
@click.option(
    "--refresh-times",
    is_flag=True,
    help="Only move the demo's time-boxed offers on to now (--if-empty does it too).",
)
@with_appcontext
def demo_command(if_empty, reset, seed, refresh_times):
    """Fill a lively demo community (members, threads, offers, events...)."""
    from . import demo
    from .accounts.models import User

    # Services build links (notifications, search) with url_for, which needs a request context.
    if refresh_times and not reset:
        with current_app.test_request_context("/"):
            click.echo(demo.refresh_times())
        return
    if reset:
        _reset_schema()
    elif if_empty and db.session.query(User.id).first() is not None:
        # `make run` comes here at every start: offers placed yesterday are moved to today.
        with current_app.test_request_context("/"):
            moved = demo.refresh_times()
        click.echo("demo data already present; skipping the build. " + moved)
        return
    with current_app.test_request_context("/"):
        summary = demo.build(seed=seed)
    click.echo(summary)


@click.group("jobs", help="Periodic tasks (expiry of holds, team deadlines, reminders).")
def jobs_group():
    pass


@jobs_group.command("run")
@with_appcontext
def jobs_run():
    """Run every periodic task once, in this process (workers: see the README)."""
    from . import tasks

    for name, handled in tasks.run_periodic_once(current_app._get_current_object()).items():
        click.echo(f"{name}: {handled}")


@click.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@with_appcontext
def serve(host, port):
    """Serve the site with Socket.IO (development and demo; see README for production)."""
    from . import tasks
    from .extensions import socketio

    app = current_app._get_current_object()
    if app.config.get("MAIL_SINK"):
        from . import mail

        mail.start_sink(app)  # development: mail lands in a Maildir shown at /dev/outbox
    if app.config["JOBS_IN_PROCESS"]:
        tasks.start_embedded_beat(app)  # the periodic tasks, in a thread of this server
    # `flask` sets FLASK_RUN_FROM_CLI, which makes app.run() a no-op; this command *is* the server.
    os.environ.pop("FLASK_RUN_FROM_CLI", None)
    socketio.run(
        app, host=host, port=port, allow_unsafe_werkzeug=True, use_reloader=False, log_output=True
    )


@click.group("bench", help="Benchmark data (see tests/bench).")
def bench_group():
    pass


@bench_group.command("data")
@click.option("--posts", default=20_000, show_default=True, type=click.IntRange(1))
@click.option("--threads", type=click.IntRange(1), help="Default: one per ten posts.")
@click.option("--users", default=200, show_default=True, type=click.IntRange(1, 99_999))
@click.option("--seed", default=42, show_default=True)
@click.option("--workers", type=click.IntRange(1), help="Rendering processes (default: cores).")
@click.option("--reset", is_flag=True, help="Drop every table and migrate afresh first.")
@click.option("--targets", "targets_path", type=click.Path(dir_okay=False), help="Write JSON.")
@with_appcontext
def bench_data(posts, threads, users, seed, workers, reset, targets_path):
    """Bulk-load the peer kit's dataset shape (200 users, 5 categories, 20,000 posts)."""
    import json

    from . import benchdata

    if reset:
        _reset_schema()
    app = current_app._get_current_object()
    try:
        with app.test_request_context("/"):
            found = benchdata.build(
                app,
                posts=posts,
                threads=threads,
                users=users,
                seed=seed,
                workers=workers,
                log=click.echo,
            )
    except ValueError as err:
        db.session.rollback()
        raise click.ClickException(str(err)) from None
    if targets_path:
        with open(targets_path, "w") as out:
            json.dump(found, out, indent=1)
    paths = found["paths"]
    click.echo("\n".join(f"{name}: {path}" for name, path in paths.items()))


def _reset_schema() -> None:
    from flask_migrate import stamp, upgrade

    db.drop_all()
    stamp(revision="base")
    upgrade()


@click.group("search", help="The search index.")
def search_group():
    pass


@search_group.command("rebuild")
@click.option(
    "--source",
    "sources",
    multiple=True,
    type=click.Choice(["post", "message", "product", "event"]),
    help="Only these (repeatable); every source by default.",
)
@with_appcontext
def search_rebuild(sources):
    """Rebuild the search documents from their owners (after an upgrade or a bulk load)."""
    from flask import current_app

    from .search import service

    with current_app.test_request_context("/"):  # documents carry their page's path
        counts = service.rebuild(sources or None)
    for source, count in counts.items():
        click.echo(f"{source}: {count} documents")
