from flask import Blueprint, jsonify, make_response, render_template, request
from flask_login import current_user
from sqlalchemy import text

from .. import pagecache
from ..board import service as board
from ..extensions import db

bp = Blueprint("pages", __name__)


@bp.get("/")
def home():
    args = request.args

    def render_list() -> str:
        shown = board.listing(args, None, viewer=current_user, default_limit=30)
        return render_template(
            "board/_thread_list.html",
            page=shown.page,
            view=shown.view,
            period=shown.period,
            states=shown.states,
        )

    thread_list, validators = pagecache.thread_list(pagecache.list_key("home", args), render_list)
    if (unchanged := pagecache.not_modified(validators)) is not None:
        return unchanged
    page = render_template(
        "pages/home.html",
        categories=board.list_categories(current_user),
        thread_list=thread_list,
        view=args.get("view", "latest"),
        period=args.get("period", "week"),
    )
    return pagecache.conditional(make_response(page), validators)


@bp.get("/offer-unavailable")
def offer_unavailable():
    return render_template("pages/offer_unavailable.html"), 404


@bp.get("/healthz")
def health():
    db.session.execute(text("SELECT 1"))
    return jsonify({"ok": True})
