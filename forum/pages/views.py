from flask import Blueprint, jsonify, render_template
from flask_login import current_user
from sqlalchemy import text

from ..board import service as board
from ..extensions import db

bp = Blueprint("pages", __name__)


@bp.get("/")
def home():
    latest = board.list_threads(None, limit=30, viewer=current_user)
    return render_template(
        "pages/home.html", categories=board.list_categories(current_user), latest=latest
    )


@bp.get("/offer-unavailable")
def offer_unavailable():
    return render_template("pages/offer_unavailable.html"), 404


@bp.get("/healthz")
def health():
    db.session.execute(text("SELECT 1"))
    return jsonify({"ok": True})
