"""Search: ``GET /api/v1/search?q=`` (API.md), results of every type ranked by relevance."""

from flask import request
from sqlalchemy import select

from ..accounts.models import User
from ..accounts.schemas import dump_user_ref
from ..extensions import db
from ..permissions import acting_user
from ..schemas import iso
from ..search import service
from . import bp, responses
from .core import PAGE, endpoint, page_args

FILTERS = (
    ("type", {"type": "string", "enum": ["post", "thread", "product", "event", "message"]}),
    ("category", {"type": "string"}),
    ("author", {"type": "string"}),
    ("since", {"type": "string", "format": "date"}),
    ("until", {"type": "string", "format": "date"}),
    ("has_offer", {"type": "boolean"}),
)


@endpoint(
    bp,
    "/search",
    "GET",
    auth="anyone",
    query=("q", *FILTERS, *PAGE),
    tag="search",
    response=responses.SearchPage,
)
def search():
    """Search posts, threads, products, events and public chat messages"""
    query = service.query_from(request.args)
    page = service.search(
        query,
        viewer=acting_user(),
        **page_args(),
    )
    ids = {hit.author_id for hit in page.items if hit.author_id}
    authors = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}
    return {
        "items": [
            {
                "type": hit.type,
                "id": hit.id,
                "url": hit.url,
                "title": hit.title,
                "snippet": hit.snippet,
                "label": hit.label,
                "author": dump_user_ref(authors[hit.author_id])
                if hit.author_id in authors
                else None,
                "created_at": iso(hit.created_at),
                "rank": hit.rank,
            }
            for hit in page.items
        ],
        "next_cursor": page.next_cursor,
    }
