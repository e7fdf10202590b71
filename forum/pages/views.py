from flask import Blueprint, jsonify, render_template, request
from flask_login import current_user
from sqlalchemy import text

from ..board import service as board
from ..extensions import db

bp = Blueprint("pages", __name__)


@bp.get("/")
def home():
    shown = board.listing(request.args, None, viewer=current_user, default_limit=30)
    return render_template(
        "pages/home.html",
        categories=board.list_categories(),
        page=shown.page,
        latest=shown.page,
        view=shown.view,
        period=shown.period,
        states=shown.states,
    )


@bp.get("/offer-unavailable")
def offer_unavailable():
    return render_template("pages/offer_unavailable.html"), 404


@bp.get("/healthz")
def health():
    db.session.execute(text("SELECT 1"))
    return jsonify({"ok": True})
