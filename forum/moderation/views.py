from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..accounts import service as accounts
from ..board import service as board
from ..extensions import db
from . import service

bp = Blueprint("moderation", __name__, url_prefix="/mod")


@bp.post("/t/<int:thread_id>/<any(lock,unlock,pin,unpin):action>")
@login_required
def thread_action(thread_id: int, action: str):
    thread = board.get_thread(thread_id, viewer=current_user)
    if action in ("lock", "unlock"):
        board.set_locked(current_user, thread, action == "lock")
    else:
        board.set_pinned(current_user, thread, action == "pin")
    db.session.commit()
    return redirect(url_for("board.thread", thread_id=thread.id))


@bp.post("/t/<int:thread_id>/move")
@login_required
def move(thread_id: int):
    thread = board.get_thread(thread_id, viewer=current_user)
    service.check_moderator(current_user)
    board.move_thread(
        current_user, thread, board.get_category(request.form.get("category", ""), current_user)
    )
    db.session.commit()
    return redirect(url_for("board.thread", thread_id=thread.id))


@bp.post("/p/<int:post_id>/<any(hide,restore):action>")
@login_required
def post_action(post_id: int, action: str):
    service.check_moderator(current_user)
    post = board.visible_post(post_id, viewer=current_user)
    board.set_hidden(current_user, post, action == "hide", request.form.get("reason", ""))
    db.session.commit()
    return redirect(url_for("board.goto_post", post_id=post.id))


@bp.post("/u/<username>/suspend")
@login_required
def suspend(username: str):
    user = accounts.get_by_username(username)
    days = request.form.get("days", "")
    service.suspend(
        current_user, user, int(days) if days.isdigit() else -1, request.form.get("reason", "")
    )
    db.session.commit()
    return redirect(url_for("accounts.profile", username=user.username))


@bp.post("/u/<username>/unsuspend")
@login_required
def unsuspend(username: str):
    user = accounts.get_by_username(username)
    service.unsuspend(current_user, user)
    db.session.commit()
    return redirect(url_for("accounts.profile", username=user.username))


@bp.get("/audit")
@login_required
def audit():
    service.check_moderator(current_user)
    before = request.args.get("before", "")
    return render_template(
        "moderation/audit.html",
        entries=service.audit_log(before_id=int(before) if before.isdigit() else None),
    )
