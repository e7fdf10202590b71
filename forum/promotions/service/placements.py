"""Where auctions and guessing games were embedded, and posting their results back there.

A post or chat message that embeds ``[[auction:ID]]`` or ``[[guess:ID]]`` records its
place (``thread:42`` or ``room:general``) when it is written (``signals.post_created``,
``signals.message_sent``). When the offer ends, one line (and for a game its result
widget) is posted back to each place by the offer's merchant, through the board's and
chat's own services, so their rights, locks and live pushes apply. A place that refuses
(a locked thread, a muted merchant) is skipped; the result never fails the caller.
"""

import logging

from sqlalchemy import select

from ...accounts.models import User
from ...board import service as board
from ...chat import service as chat
from ...database import insert_ignore
from ...errors import ServiceError
from ...extensions import db
from ..models import OfferPlacement

log = logging.getLogger(__name__)
PLACED_KINDS = ("auction", "guess")
MAX_PLACES = 10


def _record(keys, place: str) -> None:
    for key in keys or ():
        kind, _, ident = str(key).partition(":")
        if kind in PLACED_KINDS and ident.isdigit():
            db.session.execute(
                insert_ignore(
                    OfferPlacement, {"kind": kind, "offer_id": int(ident), "place": place}
                )
            )


def on_post_created(post, *, thread, **_) -> None:
    """``signals.post_created``: remember the thread of each auction or game the post embeds."""
    _record(post.embeds, f"thread:{thread.id}")


def on_message_sent(message, *, room, **_) -> None:
    """``signals.message_sent``: remember the chat room of each auction or game embedded."""
    _record(message.embeds, f"room:{room.slug}")


def places_of(kind: str, offer_id: int) -> list[str]:
    return list(
        db.session.scalars(
            select(OfferPlacement.place)
            .where(OfferPlacement.kind == kind, OfferPlacement.offer_id == offer_id)
            .order_by(OfferPlacement.id)
            .limit(MAX_PLACES)
        )
    )


def post_result(kind: str, offer_id: int, author_id: int, text: str) -> int:
    """Post ``text`` (Markdown, ours) as ``author_id`` in every place the offer was shown.

    Returns how many places got it. Each place in its own savepoint: a refusal there
    (locked thread, muted, rate limited) is logged and skipped.
    """
    author = db.session.get(User, author_id)
    if author is None:
        return 0
    posted = 0
    for place in places_of(kind, offer_id):
        where, _, ident = place.partition(":")
        try:
            with db.session.begin_nested():
                if where == "thread":
                    board.reply(author, board.get_thread(int(ident), author), text)
                elif where == "room":
                    chat.send_message(author, chat.get_room(ident, author), text)
                else:  # pragma: no cover - only the two kinds are recorded
                    continue
            posted += 1
        except ServiceError as err:
            log.info("result of %s %s not posted in %s: %s", kind, offer_id, place, err)
    return posted
