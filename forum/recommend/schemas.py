"""The JSON shape of a member's recommendations (``GET /api/v1/me/recommendations``)."""

from flask import url_for

from ..schemas import iso
from .models import KINDS

# Each kind's page: (endpoint, the id argument it takes); a room is found by its slug.
PAGES = {
    "thread": ("board.thread", "thread_id"),
    "offer": ("shop_embed.product", "product_id"),
    "snap": ("promotions.snap", "snap_id"),
    "groupbuy": ("promotions.group_buy", "group_buy_id"),
    "auction": ("promotions.auction", "auction_id"),
    "guess": ("promotions.guess_game", "game_id"),
    "event": ("events.detail", "event_id"),
}


def link(row) -> str:
    """Where a recommendation leads."""
    if row.kind not in PAGES:
        return url_for("chat.room", slug=row.slug)
    endpoint, argument = PAGES[row.kind]
    return url_for(endpoint, **{argument: row.target_id})


PLURAL = {"thread": "threads", "offer": "offers", "event": "events", "room": "rooms"}


def dump_recommendations(lists: dict) -> dict:
    """``lists`` from ``service.for_member``, as the API gives them."""
    return {
        "personal": lists["personal"],
        "computed_at": iso(lists["computed_at"]),
        **{
            PLURAL[kind]: [
                {
                    "kind": row.kind,
                    "id": row.target_id,
                    "title": row.title,
                    "reason": row.reason,
                    "href": link(row),
                }
                for row in lists[kind]
            ]
            for kind in KINDS
        },
    }
