"""Moderation's pages: the review queue, the flag form, the audit log, the admin's
users and site settings, the community guidelines; and the moderators' thread and post
buttons (every action with a reason)."""

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..accounts import service as accounts
from ..accounts.models import User
from ..board import service as board
from ..errors import NotFound, ServiceError
from ..extensions import db
from ..permissions import acting_user
from . import service

bp = Blueprint("moderation", __name__)


def _back(default: str) -> str:
    """A same-site path to return to (never an outside address)."""
    target = request.form.get("next") or request.args.get("next") or ""
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.netloc:
        return target
    return default


def _minutes() -> int:
    raw = request.form.get("minutes", "")
    if not raw.isdigit():
        days = request.form.get("days", "")
        return int(days) * 24 * 60 if days.isdigit() and len(days) < 6 else -1
    return int(raw) if len(raw) < 10 else -1


# --- threads and posts (board's rows, board's rules) --------------------------------


@bp.post("/mod/t/<int:thread_id>/<any(lock,unlock,pin,unpin):action>")
@login_required
def thread_action(thread_id: int, action: str):
    thread = board.get_thread(thread_id, viewer=current_user)
    reason = request.form.get("reason", "")
    if action in ("lock", "unlock"):
        board.set_locked(acting_user(), thread, action == "lock", reason)
    else:
        board.set_pinned(acting_user(), thread, action == "pin", reason)
    db.session.commit()
    return redirect(url_for("board.thread", thread_id=thread.id))


@bp.post("/mod/t/<int:thread_id>/move")
@login_required
def move(thread_id: int):
    thread = board.get_thread(thread_id, viewer=current_user)
    service.check_moderator(acting_user())
    board.move_thread(
        acting_user(),
        thread,
        board.get_category(request.form.get("category", ""), acting_user()),
        request.form.get("reason", ""),
    )
    db.session.commit()
    return redirect(url_for("board.thread", thread_id=thread.id))


@bp.post("/mod/p/<int:post_id>/<any(hide,restore):action>")
@login_required
def post_action(post_id: int, action: str):
    service.check_moderator(acting_user())
    post = board.visible_post(post_id, viewer=current_user)
    board.set_hidden(acting_user(), post, action == "hide", request.form.get("reason", ""))
    db.session.commit()
    return redirect(url_for("board.goto_post", post_id=post.id))


# --- members ------------------------------------------------------------------------


@bp.post("/mod/u/<username>/<any(suspend,silence):action>")
@login_required
def sanction(username: str, action: str):
    user = accounts.get_by_username(username)
    item = request.form.get("item_id", "")
    act = service.suspend if action == "suspend" else service.silence
    act(
        acting_user(),
        user,
        _minutes(),
        request.form.get("reason", ""),
        item_id=int(item) if item.isdigit() and len(item) < 10 else None,
    )
    db.session.commit()
    flash(f"{user.username} is {'suspended' if action == 'suspend' else 'silenced'}.", "success")
    return redirect(_back(url_for("moderation.admin_user", username=user.username)))


@bp.post("/mod/u/<username>/<any(unsuspend,unsilence):action>")
@login_required
def lift(username: str, action: str):
    user = accounts.get_by_username(username)
    act = service.unsuspend if action == "unsuspend" else service.unsilence
    act(acting_user(), user, request.form.get("reason", ""))
    db.session.commit()
    return redirect(_back(url_for("moderation.admin_user", username=user.username)))


# --- flags --------------------------------------------------------------------------


@bp.route("/mod/flag", methods=["GET", "POST"])
@login_required
def flag():
    """The flag form (the dialog posts here too; without script this page is the form)."""
    target = request.values.get("target", "")
    raw_id = request.values.get("target_id", "")
    target_id = int(raw_id) if raw_id.isdigit() and len(raw_id) < 10 else 0
    if request.method == "POST":
        service.flag_target(
            acting_user(),
            target,
            target_id,
            request.form.get("reason", ""),
            request.form.get("note", ""),
        )
        db.session.commit()
        flash("Thank you: the moderators will look at it.", "success")
        return redirect(_back("/"))
    described = service.describe(target, target_id, viewer=acting_user())
    if described is None:
        raise NotFound("No such thing to flag.")
    return render_template(
        "moderation/flag.html",
        target=target,
        target_id=target_id,
        described=described,
        reasons=service.FLAG_REASONS,
        next=_back("/"),
    )


# --- the review queue ---------------------------------------------------------------


@bp.get("/mod/queue")
@login_required
def queue():
    status = request.args.get("status", "pending")
    page = service.queue(acting_user(), status=status, cursor=request.args.get("cursor"))
    flags = service.flags_of([item.id for item in page.items])
    accuracy = service.accuracy([f.reporter_id for fs in flags.values() for f in fs])
    rows = [(item, service.target_of(item, acting_user()), flags[item.id]) for item in page.items]
    return render_template(
        "moderation/queue.html",
        rows=rows,
        accuracy=accuracy,
        status=status,
        next_cursor=page.next_cursor,
    )


@bp.post("/mod/queue/<int:item_id>/<any(claim,decide):step>")
@login_required
def queue_action(item_id: int, step: str):
    item = service.get_item(acting_user(), item_id)
    if step == "claim":
        service.claim(acting_user(), item)
    else:
        service.decide(
            acting_user(), item, request.form.get("action", ""), request.form.get("reason", "")
        )
    db.session.commit()
    flash("Claimed." if step == "claim" else "Decided.", "success")
    return redirect(url_for("moderation.queue"))


# --- audit log ----------------------------------------------------------------------


@bp.get("/mod/audit")
@login_required
def audit():
    service.check_moderator(acting_user())
    before = request.args.get("before", "")
    return render_template(
        "moderation/audit.html",
        entries=service.audit_log(
            before_id=int(before) if before.isdigit() and len(before) < 10 else None
        ),
        page_size=service.audit.AUDIT_PAGE,
    )


# --- admin: users and site settings ---------------------------------------------------


@bp.get("/admin/users")
@login_required
def admin_users():
    users = service.search_users(
        acting_user(), request.args.get("q", ""), status=request.args.get("status", "")
    )
    return render_template("moderation/admin_users.html", users=users, q=request.args.get("q", ""))


@bp.get("/admin/users/<username>")
@login_required
def admin_user(username: str):
    service.check_moderator(acting_user())
    user = accounts.get_by_username(username)
    return render_template(
        "moderation/admin_user.html",
        user=user,
        history=service.audit_log(user_id=user.id),
        roles=("member", "moderator", "merchant", "admin"),
    )


@bp.post("/admin/users/<username>/role")
@login_required
def admin_role(username: str):
    user = accounts.get_by_username(username)
    service.set_role(
        acting_user(), user, request.form.get("role", ""), request.form.get("reason", "")
    )
    db.session.commit()
    flash("Role changed.", "success")
    return redirect(url_for("moderation.admin_user", username=user.username))


@bp.route("/admin/settings", methods=["GET", "POST"])
@login_required
def admin_settings():
    service.check_admin(acting_user())
    errors: dict = {}
    values = service.site_settings()
    if request.method == "POST":
        submitted = {spec.key: request.form.get(spec.key, "") for spec in service.SETTINGS}
        try:
            service.update_settings(acting_user(), submitted, request.form.get("reason", ""))
        except ServiceError as error:
            db.session.rollback()
            errors = error.fields or {"reason": [error.message]}
            values = {**values, **submitted}
        else:
            db.session.commit()
            flash("Settings saved.", "success")
            return redirect(url_for("moderation.admin_settings"))
    return render_template(
        "moderation/admin_settings.html",
        specs=service.SETTINGS,
        values=values,
        errors=errors,
    ), (422 if errors else 200)


# --- norms --------------------------------------------------------------------------


@bp.get("/guidelines")
def guidelines():
    return render_template("moderation/guidelines.html", guidelines=service.guidelines_html())


# --- links the audit log and the queue follow -------------------------------------------


@bp.get("/mod/target/<target>/<int:target_id>")
@login_required
def target(target: str, target_id: int):
    """Where a flagged or audited item lives (its owner says), for moderators."""
    service.check_moderator(acting_user())
    described = service.describe(target, target_id, viewer=acting_user())
    if described is None:
        raise NotFound("That item is gone.")
    return redirect(described.url)


@bp.post("/mod/target/<target>/<int:target_id>/restore")
@login_required
def restore(target: str, target_id: int):
    """Put back an item an earlier decision hid (reason required), then go to it."""
    service.restore(acting_user(), target, target_id, request.form.get("reason", ""))
    db.session.commit()
    flash("Restored.", "success")
    described = service.describe(target, target_id, viewer=acting_user())
    return redirect(described.url if described else url_for("moderation.queue"))


@bp.get("/admin/users/id/<int:user_id>")
@login_required
def admin_user_by_id(user_id: int):
    service.check_moderator(acting_user())
    user = db.session.get(User, user_id) if user_id < 2**31 else None
    if user is None:
        raise NotFound("No such member.")
    return redirect(url_for("moderation.admin_user", username=user.username))
