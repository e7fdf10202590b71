"""A month of attribution so the reports are alive after `make run`.

Merchants get commission terms. Every post and public chat message that embeds
an offer (from the shop, promotions and events demo steps, which run first) gets
a month of daily impressions and clicks from members and anonymous visitors.
Then some of those readers act, replayed at the time they would have, through
the real services: they buy the product they clicked (and the shop's hooks
credit the order), the order is shipped and completed, or refunded; they sign up
for the sponsored event; they join a group-buy team. Commission whose lock period
has passed is approved, so authors see store credit.
"""

import hashlib
import logging
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select

from ..board.models import Post
from ..chat.models import ChatMessage, ChatRoom
from ..clock import now, replaying
from ..demo import DemoContext
from ..embeds import refs_in
from ..errors import ServiceError
from ..events import service as events
from ..events.models import Event
from ..extensions import db
from ..markup import EmbedRef
from ..shop_embed import service as shop
from ..shop_embed.models import Product
from . import service
from .models import Click, ImpressionCount

log = logging.getLogger(__name__)

DAYS = 30
MERCHANT_TERMS = (
    # cps %, model, cpa cents: signup, event_signup, team_join, first_purchase
    (800, "last", {"signup": 100, "event_signup": 200, "team_join": 150, "first_purchase": 300}),
    (500, "linear", {"signup": 50, "event_signup": 150, "team_join": 100, "first_purchase": 200}),
)
BUY_RATE = {"product": 0.09, "snap": 0.06}  # of members' clicks on a card
ADDRESS = {
    "line1": "12 Market Street",
    "city": "Springfield",
    "postal_code": "12345",
    "country": "US",
}


@dataclass(frozen=True)
class Source:
    kind: str  # "post" | "message"
    id: int
    author_id: int
    room: str | None
    offer: EmbedRef
    merchant_id: int
    pull: float  # how well this post sells: some posts carry the month


def _sources(ctx: DemoContext) -> list[Source]:
    """Every post and public chat message embedding an offer whose merchant is known."""
    found = []
    posts = db.session.execute(
        select(Post.id, Post.author_id, Post.body_html).where(
            Post.deleted_at.is_(None), Post.body_html.contains("<plaza-embed")
        )
    )
    messages = db.session.execute(
        select(ChatMessage.id, ChatMessage.author_id, ChatMessage.body_html, ChatRoom.slug)
        .join(ChatRoom)
        .where(
            ChatMessage.deleted_at.is_(None),
            ChatRoom.kind == "public",
            ChatMessage.body_html.contains("<plaza-embed"),
        )
    )
    rows = [("post", *row, None) for row in posts] + [("message", *row) for row in messages]
    for kind, ident, author_id, html, room in rows:
        for ref in refs_in(html):
            owner = service.offer_owner(ref)
            if owner:
                pull = ctx.rng.uniform(0.3, 2.0)
                found.append(Source(kind, ident, author_id, room, ref, owner, pull))
    return found


def build(ctx: DemoContext) -> None:
    rng = ctx.rng
    for merchant, (rate, model, cpa) in zip(ctx.merchants, MERCHANT_TERMS, strict=False):
        service.update_settings(merchant, cps_rate_bp=rate, model=model, cpa_cents=cpa)
    sources = _sources(ctx)
    today = now().replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=DAYS - 1)
    counts: list[dict] = []
    clicks: list[dict] = []
    visits: list = []
    for day_index in range(DAYS):
        day = start + timedelta(days=day_index)
        weekend = 1.3 if day.weekday() >= 5 else 1.0
        growth = 0.6 + 0.8 * day_index / DAYS
        for source in sources:
            shown = int(rng.randint(8, 70) * source.pull * weekend * growth)
            if shown == 0:
                continue
            where = {
                "source_kind": source.kind,
                "source_id": source.id,
                "embed_kind": source.offer.kind,
                "embed_id": source.offer.id,
                "author_id": source.author_id,
                "room": source.room,
                "merchant_id": source.merchant_id,
            }
            counts.append({**where, "day": day.date(), "count": shown})
            for _ in range(sum(rng.random() < 0.06 for _ in range(shown))):
                reader = rng.choice(ctx.members) if rng.random() < 0.7 else None
                at = day + timedelta(minutes=rng.randint(0, 24 * 60 - 1))
                if at > now():
                    continue
                visitor = hashlib.blake2b(f"{rng.random()}".encode(), digest_size=16).hexdigest()
                clicks.append(
                    {
                        **where,
                        "user_id": reader.id if reader else None,
                        "visitor_id": visitor,
                        "ip_hash": visitor,
                        "ua_hash": "demo",
                        "is_self": bool(reader and reader.id == source.author_id),
                        "dedupe_key": hashlib.sha256(
                            f"demo|{len(clicks)}|{visitor}".encode()
                        ).hexdigest()[:40],
                        "created_at": at,
                    }
                )
                if reader is not None:
                    visits.append((reader, source, at))
    if counts:
        db.session.execute(insert(ImpressionCount), counts)
    if clicks:
        db.session.execute(insert(Click), clicks)
    db.session.flush()
    with _deliveries_through_the_month():
        orders, refunds, actions = _replay(ctx, visits)
    approved = service.approve_due()
    ctx.summary.append(
        f"Attribution: {sum(c['count'] for c in counts):,} impressions, {len(clicks):,} clicks, "
        f"{orders} orders from posts and chat ({refunds} refunded) and {actions} CPA actions "
        f"over {DAYS} days on {len(sources)} widgets; {approved} commissions approved. "
        "Reports: /merchant/attribution (acme_store), /admin/attribution (admin), /me/earnings."
    )


def _replay(ctx: DemoContext, visits) -> tuple[int, int, int]:
    """Some readers act within hours of their click, through the real services, at that time."""
    rng = ctx.rng
    orders = refunds = actions = 0
    signed_up: set[int] = set()
    acts = [
        (clicked_at + timedelta(minutes=rng.randint(2, 6 * 60)), index, reader, source)
        for index, (reader, source, clicked_at) in enumerate(visits)
    ]
    acts.sort(key=lambda act: (act[0], act[1]))  # replayed in the order they happen
    for when, index, reader, source in acts:
        if when > now():
            continue
        roll = rng.random()
        kind = source.offer.kind
        try:
            with db.session.begin_nested():
                if kind in BUY_RATE and roll < BUY_RATE[kind]:
                    refunded = _purchase(ctx, reader, source, when)
                    if refunded is not None:
                        orders += 1
                        refunds += refunded
                elif kind == "event" and roll < 0.25:
                    actions += _event_signup(reader, source, when)
                elif action := _recorded_action(kind, roll, index, reader, signed_up):
                    service.record_action(
                        action[0],
                        user_id=reader.id,
                        merchant_id=source.merchant_id,
                        key=action[1],
                        occurred_at=when,
                    )
                    actions += 1
        except ServiceError as err:  # sold out, already signed up...: the reader just left
            log.debug("demo: a reader's action was refused: %s", err.message)
    return orders, refunds, actions


def _recorded_action(kind: str, roll: float, index: int, reader, signed_up: set[int]):
    """(kind, key) of a CPA action recorded directly, or None.

    Team joins happen live in the widget; for the month before, a record of them.
    A few readers were recruited by the link (their sign-up counts once).
    """
    if kind == "groupbuy" and roll < 0.2:
        return ("team_join", f"demo-team:{index}")
    if roll > 0.97 and reader.id not in signed_up:
        signed_up.add(reader.id)
        return ("signup", f"user:{reader.id}")
    return None


@contextmanager
def _deliveries_through_the_month():
    """Shops restocked as they sold during the month; today's stock is what the shop demo set."""
    products = db.session.scalars(select(Product).where(Product.archived_at.is_(None))).all()
    today = {product.id: product.stock for product in products}
    for product in products:
        shop.update_product(product.merchant.user, product, stock=product.stock + 200)
    try:
        yield
    finally:
        for product in products:
            shop.update_product(product.merchant.user, product, stock=today[product.id])


def _product_of(source: Source) -> int | None:
    if source.offer.kind == "product":
        return source.offer.id
    from ..promotions.models import Snap

    snap = db.session.get(Snap, source.offer.id)
    return snap.product_id if snap else None


def _purchase(ctx: DemoContext, reader, source: Source, when: datetime) -> int | None:
    """Buy, pay, and later ship and complete (or refund); None if it could not be bought.

    Returns 1 when the order ended refunded, else 0.
    """
    rng = ctx.rng
    product_id = _product_of(source)
    if product_id is None:
        return None
    with replaying(when):
        order, _ = shop.place_order(
            reader,
            [(product_id, 1 if rng.random() < 0.8 else 2)],
            shipping_address={**ADDRESS, "name": reader.username.title()},
        )
        shop.pay(reader, order, "sandbox")
    seller = order.merchant.user
    fate = rng.random()
    shipped_at = when + timedelta(hours=rng.randint(6, 40))
    if fate < 0.09:
        refund_at = when + timedelta(days=rng.randint(1, 5))
        if refund_at <= now():
            with replaying(refund_at):
                shop.refund(seller, order, reason="Arrived damaged")
            return 1
        return 0
    if shipped_at <= now():
        with replaying(shipped_at):
            shop.ship(seller, order, tracking=f"PLZ{order.id:06d}")
        completed_at = shipped_at + timedelta(days=rng.randint(2, 5))
        if fate < 0.85 and completed_at <= now():
            with replaying(completed_at):
                shop.complete(reader, order)
    return 0


def _event_signup(reader, source: Source, when: datetime) -> int:
    event = db.session.get(Event, source.offer.id)
    if event is None or event.starts_at <= when:
        return 0
    with replaying(when):
        events.sign_up(reader, event)
    return 1
