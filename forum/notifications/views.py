from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..extensions import db
from . import service

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.get("/")
@login_required
def index():
    items = service.recent(current_user.id, limit=50)
    if request.accept_mimetypes.best == "application/json":
        return jsonify(
            {
                "unread": service.unread_count(current_user.id),
                "items": [
                    {
                        "id": n.id,
                        "kind": n.kind,
                        "text": n.text,
                        "url": url_for("notifications.open", notification_id=n.id),
                        "read": n.read_at is not None,
                        "created_at": n.created_at.isoformat(),
                    }
                    for n in items
                ],
            }
        )
    return render_template("notifications/index.html", items=items)


@bp.get("/<int:notification_id>")
@login_required
def open(notification_id: int):  # noqa: A001 (the route's name)
    target = service.open_notification(current_user.id, notification_id)
    db.session.commit()
    return redirect(target)


@bp.post("/read")
@login_required
def mark_all_read():
    service.mark_read(current_user.id)
    db.session.commit()
    if request.accept_mimetypes.best == "application/json":
        return jsonify({"unread": 0})
    return redirect(url_for("notifications.index"))
