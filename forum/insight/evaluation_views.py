"""Promotion evaluation pages: a merchant's own promotions (/merchant/evaluation) and
every promotion for admins (/admin/evaluation), each with its chart and CSV."""

from flask import Response, abort, render_template, request
from flask_login import current_user, login_required

from ..errors import NotFound, ServiceError
from ..permissions import has_role, is_admin
from . import service
from .views import bp


@bp.after_app_request
def record_exposures(response):
    return service.flush_exposures(response)


def _scope(area: str) -> int | None:
    """Whose promotions the area shows: the merchant's own, or (admin area) everyone's."""
    if area == "admin":
        if not is_admin(current_user):
            abort(403)
        return None
    if not has_role(current_user, "merchant"):
        abort(403)
    return current_user.id


def _list(area: str):
    scope = _scope(area)
    if scope is None:
        return render_template(
            "insight/evaluations.html",
            area=area,
            promotions=service.promotions_list(None),
            rollup=None,
            error=None,
        )
    try:
        rollup = service.merchant_rollup(scope, request.args.get("from"), request.args.get("to"))
    except ServiceError as err:
        rollup = service.merchant_rollup(scope)
        return render_template("insight/evaluations.html", area=area, rollup=rollup, error=err), 400
    return render_template("insight/evaluations.html", area=area, rollup=rollup, error=None)


def _detail(area: str, kind: str, ident: int):
    scope = _scope(area)
    try:
        report = service.evaluate(
            kind,
            ident,
            merchant_user_id=scope,
            raw_from=request.args.get("from"),
            raw_to=request.args.get("to"),
        )
    except NotFound:
        abort(404)
    except ServiceError as err:
        return render_template("insight/evaluation.html", area=area, report=None, error=err), 400
    if request.args.get("format") == "csv":
        return Response(
            service.to_csv(report),
            mimetype="text/csv",
            headers={"Content-Disposition": f"attachment; filename=evaluation-{kind}-{ident}.csv"},
        )
    return render_template("insight/evaluation.html", area=area, report=report, error=None)


@bp.route("/merchant/evaluation")
@login_required
def merchant_evaluations():
    return _list("merchant")


@bp.route("/merchant/evaluation/<kind>/<int:ident>")
@login_required
def merchant_evaluation(kind: str, ident: int):
    return _detail("merchant", kind, ident)


@bp.route("/admin/evaluation")
@login_required
def admin_evaluations():
    return _list("admin")


@bp.route("/admin/evaluation/<kind>/<int:ident>")
@login_required
def admin_evaluation(kind: str, ident: int):
    return _detail("admin", kind, ident)
