"""The search page: results of every type, highlighted, with filters."""

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user
from sqlalchemy import select

from ..accounts.models import User
from ..board import service as board
from ..errors import ServiceError
from ..extensions import db, limiter
from . import service
from .schemas import KINDS

bp = Blueprint("search", __name__)


@bp.get("/search")
@limiter.limit(lambda: current_app.config["SEARCH_LIMIT"])
def search():
    args = request.args
    page, error, query = None, None, None
    try:
        query = service.query_from(args)
        if query.q.strip():
            page = service.search(query, viewer=current_user, cursor=args.get("cursor"), limit=20)
    except ServiceError as err:
        error = (
            err.message
            if not err.fields
            else " ".join(message for messages in err.fields.values() for message in messages)
        )
    ids = {hit.author_id for hit in page.items if hit.author_id} if page else set()
    names = (
        {
            row.id: row.username
            for row in db.session.execute(select(User.id, User.username).where(User.id.in_(ids)))
        }
        if ids
        else {}
    )
    return render_template(
        "search/search.html",
        names=names,
        args=args,
        q=args.get("q", ""),
        page=page,
        error=error,
        kinds=KINDS,
        categories=board.list_categories(),
        more_args={k: v for k, v in args.items() if k != "cursor"},
    )
