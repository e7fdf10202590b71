"""The search page: results of every type, highlighted, with filters."""

from flask import Blueprint, render_template, request
from flask_login import current_user

from ..board import service as board
from ..errors import ServiceError
from . import service
from .schemas import KINDS

bp = Blueprint("search", __name__)


@bp.get("/search")
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
    return render_template(
        "search/search.html",
        args=args,
        q=args.get("q", ""),
        page=page,
        error=error,
        kinds=KINDS,
        categories=board.list_categories(),
        more_args={k: v for k, v in args.items() if k != "cursor"},
    )
