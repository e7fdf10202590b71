"""Trust pages: the admin's rules table and staff level grants."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup, escape

from ..accounts import service as accounts
from ..errors import ServiceError
from ..extensions import db
from ..permissions import can_moderate, is_admin
from ..web import safe_target
from . import service

bp = Blueprint("trust", __name__)


def add_template_helpers(app) -> None:
    @app.template_global()
    def trust_tag(user, always: bool = False) -> Markup:
        """A small "TL2 member" tag on user cards (TL0 shown as "new" only on profiles)."""
        level = service.level_of(user)
        if not level and not always:
            return Markup("")
        name = service.LEVEL_NAMES[level]
        return Markup(
            '<span class="tag tag-trust" title="Trust level {0}: {1}">TL{0} · {1}</span>'
        ).format(level, escape(name))


def _parse_rules(form) -> tuple[dict[int, dict[str, int | None]], dict[str, list[str]]]:
    """The rules table's inputs, named ``tl<level>.<metric>``; blank lifts a ceiling."""
    changes: dict[int, dict[str, int | None]] = {}
    errors: dict[str, list[str]] = {}
    for level in (1, 2, 3):
        for metric in service.METRICS:
            key = f"tl{level}.{metric}"
            if key not in form:
                continue
            raw = form.get(key, "").strip()
            if raw == "" and metric == "max_recent_flags":
                changes.setdefault(level, {})[metric] = None
            elif raw.isdigit() and len(raw) <= 9:
                changes.setdefault(level, {})[metric] = int(raw)
            else:
                errors[key] = ["Use a whole number from 0 to 1,000,000."]
    return changes, errors


@bp.route("/admin/trust", methods=["GET", "POST"])
@login_required
def admin_rules():
    if not is_admin(current_user):
        abort(403)
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        changes, errors = _parse_rules(request.form)
        if not errors:
            try:
                service.update_rules(current_user._get_current_object(), changes)
                db.session.commit()
                flash("Trust rules saved; the next evaluations use them.", "success")
                return redirect(url_for("trust.admin_rules"), 303)
            except ServiceError as err:
                db.session.rollback()
                errors = err.fields or {"": [err.message]}
        status = 422
    return render_template(
        "trust/admin_rules.html",
        rules=service.rules(),
        metrics=service.METRICS,
        window_days=service.window_days(),
        names=service.LEVEL_NAMES,
        errors=errors,
        submitted=request.form if errors else None,
    ), status


@bp.post("/admin/trust/grant")
@login_required
def grant():
    """A moderator sets a member's level (0-4) with a reason, from their profile or the
    admin's member page (its form sends ``next``: back there)."""
    if not can_moderate(current_user):
        abort(403)
    user = accounts.get_by_username(request.form.get("username", ""))
    raw = request.form.get("level", "")
    level = int(raw) if raw.isdigit() and len(raw) < 3 else -1
    try:
        service.grant(
            current_user._get_current_object(), user, level, request.form.get("reason", "")
        )
        db.session.commit()
        flash(f"{user.username} is now at trust level {service.level_of(user)}.", "success")
    except ServiceError as err:
        db.session.rollback()
        flash(" ".join([err.message, *(m for ms in err.fields.values() for m in ms)]), "error")
    back = url_for("accounts.profile", username=user.username)
    return redirect(safe_target(request.form.get("next"), back), 303)
