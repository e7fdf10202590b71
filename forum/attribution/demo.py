"""A month of attribution so the reports are alive after `make run`.

Merchants get commission settings; the posts that embed offers (from the shop
and events demo steps, which run first) get a month of daily impressions and
clicks from members and anonymous visitors; some of those readers then sign up
for events, join group-buy teams or were recruited by the link (CPA actions),
credited through the real service. Actions old enough are approved, so authors
see store credit. Orders and refunds come from the shop's demo (its order events
reach attribution through ``record_order``/``on_order_status``).

Until the shop registers its product cards with attribution, a dozen posts
stand in as sources of products numbered 1-6 (labelled "product #N").
"""

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import insert, select

from ..board.models import Post
from ..clock import now
from ..demo import DemoContext
from ..embeds import refs_in
from ..extensions import db
from . import service
from .models import Click, ImpressionCount

DAYS = 30
MERCHANT_TERMS = (
    # cps %, model, cpa cents: signup, event_signup, team_join, first_purchase
    (800, "last", {"signup": 100, "event_signup": 200, "team_join": 150, "first_purchase": 300}),
    (500, "linear", {"signup": 50, "event_signup": 150, "team_join": 100, "first_purchase": 200}),
)


@dataclass(frozen=True)
class Source:
    post_id: int
    author_id: int
    kind: str
    offer_id: int
    merchant_id: int
    pull: float  # how well this post sells: some posts carry the month


def _real_sources(ctx: DemoContext) -> list[Source]:
    found = []
    posts = db.session.scalars(
        select(Post).where(Post.deleted_at.is_(None), Post.body_html.contains("<plaza-embed"))
    )
    for post in posts:
        for ref in refs_in(post.body_html):
            owner = service.offer_owner(ref)
            if owner:
                found.append(
                    Source(
                        post.id, post.author_id, ref.kind, ref.id, owner, ctx.rng.uniform(0.3, 2.0)
                    )
                )
    return found


def _stand_in_sources(ctx: DemoContext) -> list[Source]:
    rng = ctx.rng
    threads = rng.sample(ctx.threads, min(12, len(ctx.threads)))
    sources = []
    for index, thread in enumerate(threads):
        post = db.session.scalar(
            select(Post).where(Post.thread_id == thread.id).order_by(Post.position).limit(1)
        )
        merchant = ctx.merchants[index % len(ctx.merchants)]
        offer = 1 + (index % 3) + 3 * (index % len(ctx.merchants))
        sources.append(
            Source(post.id, post.author_id, "product", offer, merchant.id, rng.uniform(0.3, 2.0))
        )
    return sources


def build(ctx: DemoContext) -> None:
    rng = ctx.rng
    for merchant, (rate, model, cpa) in zip(ctx.merchants, MERCHANT_TERMS, strict=False):
        service.update_settings(merchant, cps_rate_bp=rate, model=model, cpa_cents=cpa)
    sources = _real_sources(ctx)
    if "product" not in service._OFFERS:  # no shop yet: stand-in product cards
        sources += _stand_in_sources(ctx)
    today = now().replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=DAYS - 1)
    counts, clicks, visits = [], [], []
    for day_index in range(DAYS):
        day = start + timedelta(days=day_index)
        weekend = 1.3 if day.weekday() >= 5 else 1.0
        growth = 0.6 + 0.8 * day_index / DAYS
        for source in sources:
            shown = int(rng.randint(8, 70) * source.pull * weekend * growth)
            if shown == 0:
                continue
            counts.append(
                {
                    "day": day.date(),
                    "source_kind": "post",
                    "source_id": source.post_id,
                    "embed_kind": source.kind,
                    "embed_id": source.offer_id,
                    "author_id": source.author_id,
                    "room": None,
                    "merchant_id": source.merchant_id,
                    "count": shown,
                }
            )
            for _ in range(sum(rng.random() < 0.06 for _ in range(shown))):
                reader = rng.choice(ctx.members) if rng.random() < 0.7 else None
                at = day + timedelta(minutes=rng.randint(0, 24 * 60 - 1))
                visitor = hashlib.blake2b(f"{rng.random()}".encode(), digest_size=16).hexdigest()
                clicks.append(
                    {
                        "source_kind": "post",
                        "source_id": source.post_id,
                        "author_id": source.author_id,
                        "room": None,
                        "embed_kind": source.kind,
                        "embed_id": source.offer_id,
                        "merchant_id": source.merchant_id,
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
    actions = _actions(ctx, visits)
    approved = service.approve_due()
    ctx.summary.append(
        f"Attribution: {sum(c['count'] for c in counts):,} impressions, {len(clicks):,} clicks and "
        f"{actions} CPA actions over {DAYS} days on {len(sources)} posts; {approved} commissions approved. "
        "Reports: /merchant/attribution (acme_store), /admin/attribution (admin), /me/earnings."
    )


def _actions(ctx: DemoContext, visits) -> int:
    """Some readers act within hours of their click; the service credits them as it would live."""
    rng = ctx.rng
    recorded = 0
    signed_up: set[int] = set()
    for index, (reader, source, at) in enumerate(visits):
        roll = rng.random()
        when = at + timedelta(minutes=rng.randint(2, 6 * 60))
        if when > now():
            continue
        if roll < 0.10:
            kind, key = "event_signup", f"demo-event:{index}"
        elif roll < 0.17:
            kind, key = "team_join", f"demo-team:{index}"
        elif roll < 0.20 and reader.id not in signed_up:
            kind, key = "signup", f"user:{reader.id}"
            signed_up.add(reader.id)
        else:
            continue
        service.record_action(
            kind, user_id=reader.id, merchant_id=source.merchant_id, key=key, occurred_at=when
        )
        recorded += 1
    return recorded
