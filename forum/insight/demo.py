"""The demo's sights (``forum.demo`` step): who saw the demo's widgets, so its promotion
evaluations have a reach and a control."""

import random
from datetime import datetime, timedelta

from ..attribution import service as attribution
from ..board.models import Post
from ..chat import service as chat
from ..clock import now
from ..embeds import refs_in
from ..extensions import db
from ..promotions import service as promotions
from . import service as insight


def build(ctx) -> None:
    """Who saw the demo's widgets (insight's first sights), so its promotion evaluations
    have a reach and a control: a share of the members saw each post's widgets at some
    moment since the post, the members of a chat room active after a message saw its
    widgets (``_chat_sights``), and everyone who clicked a widget saw it minutes before."""
    rng, end = ctx.rng, now()
    sights: dict[tuple, dict] = {}

    def saw(user_id, kind, ident, source_kind, source_id, author_id, at) -> None:
        key = (user_id, kind, ident, source_kind, source_id)
        if user_id is not None and (key not in sights or at < sights[key]["first_seen_at"]):
            sights[key] = {
                "user_id": user_id,
                "embed_kind": kind,
                "embed_id": ident,
                "source_kind": source_kind,
                "source_id": source_id,
                "author_id": author_id,
                "first_seen_at": at,
            }

    widgets = set()
    shown = db.select(Post.id, Post.author_id, Post.created_at, Post.body_html).where(
        Post.deleted_at.is_(None), Post.body_html.contains("<plaza-embed")
    )
    for post_id, author_id, created_at, html in db.session.execute(shown):
        for ref in refs_in(html):
            if ref.kind not in insight.WIDGET_KINDS:
                continue
            widgets.add((ref.kind, ref.id))
            readers = rng.sample(
                ctx.members, rng.randint(len(ctx.members) // 5, len(ctx.members) // 2)
            )
            for reader in readers:
                at = created_at + (end - created_at) * rng.random()
                saw(reader.id, ref.kind, ref.id, "post", post_id, author_id, at)
    widgets |= _chat_sights(saw, rng, end)
    for kind, ident in sorted(widgets):
        for user_id, at, source_kind, source_id, author_id, *_offer in db.session.execute(
            attribution.offer_clicks(embed=(kind, ident))
        ):
            before = at - timedelta(minutes=rng.randint(1, 90))
            saw(user_id, kind, ident, source_kind, source_id, author_id, before)
    count = insight.record_sights(list(sights.values()))
    ctx.summary.append(
        f"Insight: {count:,} first sights of {len(widgets)} widgets; "
        "evaluations: /merchant/evaluation (acme_store), /admin/evaluation (admin)."
    )


def _chat_sights(saw, rng: random.Random, end: datetime) -> set[tuple[str, int]]:
    """Who saw the widgets in chat messages: the room's members who read down to the
    message (at some moment since it) or wrote there after it (when they did), and the
    members who took part in the widget after it (a guessing game played from #deals),
    minutes before they did. Returns the widgets found."""
    messages = {row.message_id: row for row in db.session.execute(chat.widget_messages_sql())}
    if not messages:
        return set()
    readers: dict[int, dict[int, datetime | None]] = {}
    for message_id, user_id, at in db.session.execute(chat.message_readers_sql(sorted(messages))):
        known = readers.setdefault(message_id, {})
        prior = known.get(user_id)
        known[user_id] = at if prior is None else (prior if at is None else min(at, prior))
    acts = promotions.deal_participation_sql().subquery()
    players: dict[tuple[str, int], list[tuple[int, datetime]]] = {}
    for user_id, kind, deal_id, at in db.session.execute(
        db.select(acts.c.user_id, acts.c.kind, acts.c.deal_id, acts.c.at)
    ):
        players.setdefault((kind, deal_id), []).append((user_id, at))
    widgets: set[tuple[str, int]] = set()
    for message_id, row in messages.items():
        for ref in refs_in(row.body_html):
            if ref.kind not in insight.WIDGET_KINDS:
                continue
            key = (ref.kind, ref.id)
            widgets.add(key)
            for user_id, at in readers.get(message_id, {}).items():
                when = at or row.created_at + (end - row.created_at) * rng.random()
                saw(user_id, *key, "message", message_id, row.author_id, when)
            for user_id, at in players.get(key, []):
                if at is not None and at >= row.created_at and user_id != row.author_id:
                    before = max(row.created_at, at - timedelta(minutes=rng.randint(1, 10)))
                    saw(user_id, *key, "message", message_id, row.author_id, before)
    return widgets
