from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..campaigns import service as campaigns
from ..errors import ServiceError
from ..extensions import db
from ..web import form_status, run_form
from . import service
from .forms import NotificationSettingsForm, settings_rows

bp = Blueprint("notifications", __name__)


@bp.get("/notifications/")
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
                        "count": n.count,
                        "url": url_for("notifications.open", notification_id=n.id),
                        "read": n.read_at is not None,
                        "created_at": n.created_at.isoformat(),
                    }
                    for n in items
                ],
            }
        )
    # Shown as new on this one showing; the page's script then POSTs the ids it showed
    # to ``seen`` (a GET never writes).
    unread = {n.id for n in items if n.read_at is None}
    return render_template("notifications/index.html", items=items, unread=unread)


@bp.post("/notifications/seen")
@login_required
def seen():
    """The bell's page beacon: the caller saw these notifications of theirs."""
    try:
        changed = service.see(current_user.id, service.parse_seen_ids(request.form.getlist("ids")))
    except ServiceError as err:
        return jsonify(err.to_dict()), err.status
    db.session.commit()
    return jsonify({"marked": changed, "unread": service.unread_count(current_user.id)})


@bp.get("/notifications/<int:notification_id>")
@login_required
def open(notification_id: int):  # noqa: A001 (the route's name)
    """Where a notification leads (email links land here): straight there once read; an
    unread one shows a one-button form that POSTs (plaza.js submits it at once)."""
    item = service.own_notification(current_user.id, notification_id)
    if item.read_at is not None:
        return redirect(item.url)
    return render_template("notifications/open.html", item=item)


@bp.post("/notifications/<int:notification_id>")
@login_required
def follow(notification_id: int):
    target = service.open_notification(current_user.id, notification_id)
    db.session.commit()
    return redirect(target)


@bp.post("/notifications/read")
@login_required
def mark_all_read():
    service.mark_read(current_user.id)
    db.session.commit()
    if request.accept_mimetypes.best == "application/json":
        return jsonify({"unread": 0})
    return redirect(url_for("notifications.index"))


@bp.route("/settings/notifications", methods=["GET", "POST"])
@login_required
def settings():
    """Per type: shown in the bell, and by email (campaigns' choices)."""
    user = current_user._get_current_object()
    rows = settings_rows()
    if request.method == "GET":
        current = campaigns.settings_of(user)
        form = NotificationSettingsForm(formdata=None)
        for type_, _label, in_app, email in rows:
            if in_app:
                form[f"app_{type_}"].data = current["in_app"][type_]
            if email:
                form[f"email_{type_}"].data = current["notifications"][type_]
        return render_template("notifications/settings.html", form=form, rows=rows)
    form = NotificationSettingsForm()
    done = run_form(
        form,
        lambda: campaigns.update_settings(
            user,
            in_app={t: bool(form[f"app_{t}"].data) for t, _l, in_app, _e in rows if in_app},
            notifications={t: form[f"email_{t}"].data for t, _l, _a, email in rows if email},
        ),
    )
    if done:
        flash("Notification settings saved.", "success")
        return redirect(url_for("notifications.settings"))
    return render_template("notifications/settings.html", form=form, rows=rows), form_status(form)
