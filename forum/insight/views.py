"""Insight pages: the admin's community health dashboard; promotion evaluation, a
merchant's own promotions (/merchant/evaluation) and every merchant's for admins
(/admin/evaluation), each roll-up with its chart and CSV, and one promotion's evaluation
with its chart and CSV."""

from flask import Blueprint, Response, abort, render_template, request
from flask_login import current_user, login_required

from ..errors import NotFound, ServiceError, ValidationFailed
from ..permissions import has_role, is_admin
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


def _csv(body: str, name: str) -> Response:
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={name}.csv"},
    )


def _rollup(scope: int | None, raw_from=None, raw_to=None) -> dict:
    if scope is None:
        return service.admin_rollup(raw_from, raw_to)
    return service.merchant_rollup(scope, raw_from, raw_to)


def _list(area: str):
    scope = _scope(area)
    error, status = None, 200
    try:
        rollup = _rollup(scope, request.args.get("from"), request.args.get("to"))
    except ServiceError as err:
        error, status = err, 400
        rollup = _rollup(scope)
    if error is None and request.args.get("format") == "csv":
        body = service.admin_rollup_csv(rollup) if scope is None else service.rollup_csv(rollup)
        return _csv(body, f"evaluation-{area}-{rollup['from']}-{rollup['to']}")
    return render_template(
        "insight/evaluations.html",
        area=area,
        rollup=rollup,
        promotions=service.promotions_list(None) if scope is None else None,
        error=error,
    ), status


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
        return _csv(service.to_csv(report), f"evaluation-{kind}-{ident}")
    return render_template("insight/evaluation.html", area=area, report=report, error=None)


def _add_area(area: str) -> None:
    """The evaluation pages of one area: the merchant's (their own promotions) and the
    admin's (everyone's) are the same two views over a different scope."""

    @login_required
    def evaluations():
        return _list(area)

    @login_required
    def evaluation(kind: str, ident: int):
        return _detail(area, kind, ident)

    bp.add_url_rule(f"/{area}/evaluation", f"{area}_evaluations", evaluations)
    bp.add_url_rule(f"/{area}/evaluation/<kind>/<int:ident>", f"{area}_evaluation", evaluation)


_add_area("merchant")
_add_area("admin")
