"""The JSON shape of a member's recommendations (``GET /api/v1/me/recommendations``)."""

from flask import url_for

from ..schemas import iso
from .models import KINDS


def link(row) -> str:
    """Where a recommendation leads."""
    if row.kind == "thread":
        return url_for("board.thread", thread_id=row.target_id)
    if row.kind == "offer":
        return url_for("shop_embed.product", product_id=row.target_id)
    if row.kind == "snap":
        return url_for("promotions.snap", snap_id=row.target_id)
    if row.kind == "groupbuy":
        return url_for("promotions.group_buy", group_buy_id=row.target_id)
    if row.kind == "auction":
        return url_for("promotions.auction", auction_id=row.target_id)
    if row.kind == "guess":
        return url_for("promotions.guess_game", game_id=row.target_id)
    if row.kind == "event":
        return url_for("events.detail", event_id=row.target_id)
    return url_for("chat.room", slug=row.slug)


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
