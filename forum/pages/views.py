from flask import Blueprint, jsonify, make_response, render_template
from flask_login import current_user
from sqlalchemy import text

from .. import pagecache
from ..board import service as board
from ..extensions import db

bp = Blueprint("pages", __name__)


@bp.get("/")
def home():
    thread_list, validators = pagecache.thread_list(
        "home",
        lambda: render_template(
            "board/_thread_list.html",
            latest=board.list_threads(None, limit=30, viewer=current_user),
            page=None,
        ),
    )
    if (unchanged := pagecache.not_modified(validators)) is not None:
        return unchanged
    page = render_template(
        "pages/home.html", categories=board.list_categories(current_user), thread_list=thread_list
    )
    return pagecache.conditional(make_response(page), validators)


@bp.get("/offer-unavailable")
def offer_unavailable():
    return render_template("pages/offer_unavailable.html"), 404


@bp.get("/healthz")
def health():
    db.session.execute(text("SELECT 1"))
    return jsonify({"ok": True})
