"""Insight pages: the admin's community health dashboard."""

from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required

from ..errors import ValidationFailed
from ..permissions import is_admin
from . import service

bp = Blueprint("insight", __name__)


@bp.route("/admin/health")
@login_required
def admin_health():
    if not is_admin(current_user):
        abort(403)
    errors: dict[str, list[str]] = {}
    try:
        health = service.report(request.args.get("from"), request.args.get("to"))
        status = 200
    except ValidationFailed as err:
        errors = err.fields
        health = service.report(None, None)
        status = 422
    return render_template("insight/health.html", health=health, errors=errors), status


from . import evaluation_views  # noqa: E402, F401  (its routes live on this blueprint)
