"""The demo community behind `make run`: members, categories, threads and posts.

Feature packages add their part in a ``demo.py`` of their own with
``build(ctx: DemoContext)``; they run after the board, in ``FEATURE_STEPS`` order.
"""

import importlib
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app

from .accounts import service as accounts
from .accounts.models import User
from .board import service as board
from .board.models import Post, Thread
from .clock import now
from .demo_story import (
    CATEGORIES,
    DEAL_OPENER,
    DEAL_TITLES,
    PATTERNS,
    PLAIN,
    REVIEW_REPLIES,
    THANKS,
    THINGS,
    TOPICS,
    VOICES,
)
from .extensions import db
from .moderation import service as moderation
from .trust import service as trust

FEATURE_STEPS = (
    "chat",
    "shop_embed",
    "members.coupons",
    "promotions",
    "events",
    "attribution",
    "members",
    "reviews",
    "campaigns",
    "moderation",
    "trust",
    "recommend",  # after every step that makes history it learns from
    "search",  # indexes what every step wrote
    "insight",  # last: who saw the widgets every step placed, and clicked or played
)
DEMO_PASSWORD = "plaza-demo"
CLOCK_MARK = "demo_clock"  # when the demo's offers were last placed (built or refreshed)
STAFF = (
    ("admin", "admin", "admin@plaza.example"),
    ("mod_mia", "moderator", "mia@plaza.example"),
    ("acme_store", "merchant", "acme@plaza.example"),
    ("green_grocer", "merchant", "grocer@plaza.example"),
)
MEMBER_NAMES = [
    "alice",
    "bob",
    "carol",
    "dave",
    "erin",
    "frank",
    "grace",
    "heidi",
    "ivan",
    "judy",
    "mallory",
    "niaj",
    "olivia",
    "peggy",
    "rupert",
    "sybil",
    "trent",
    "victor",
    "walter",
    "yuki",
    "zara",
    "amir",
    "bea",
    "chen",
    "dara",
    "emeka",
    "fatima",
    "gus",
    "hana",
    "ines",
]


# --- the story ----------------------------------------------------------------------------
# Each member has a voice, so a reader can tell them apart across threads: alice (TL4, VIP)
# is the warm old hand, bob (VIP) says it in a line, carol (VIP) makes lists, dave is the
# sceptic, erin asks what a newcomer asks, frank hunts deals, grace keeps receipts, heidi
# measures things, ivan jokes, judy asks what you need first. Everyone else speaks plainly.
@dataclass
class DemoContext:
    rng: random.Random
    admin: User
    moderator: User
    merchants: list[User]
    members: list[User]
    threads: list[Thread] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)

    @property
    def everyone(self) -> list[User]:
        return [self.admin, self.moderator, *self.merchants, *self.members]


def _user(username: str, role: str, email: str) -> User:
    user = accounts.register(username, email, DEMO_PASSWORD, role=role)
    return user


def build(seed: int = 7) -> str:
    """Create the demo; returns a summary with the logins to try."""
    rng = random.Random(seed)
    config = current_app.config
    saved = config["RATELIMIT_ENABLED"], config.get("PASSWORD_HASH_METHOD")
    held = config["FIRST_POSTS_HELD"]
    # The seeded members' posts are published at once; moderation's step holds its own.
    config["FIRST_POSTS_HELD"] = 0
    config["RATELIMIT_ENABLED"] = False
    config["PASSWORD_HASH_METHOD"] = "pbkdf2:sha256:60000"
    try:
        staff = {
            role_name: _user(name, role, email)
            for name, role, email in STAFF
            for role_name in [name]
        }
        members = [_user(name, "member", f"{name}@plaza.example") for name in MEMBER_NAMES]
        ctx = DemoContext(
            rng=rng,
            admin=staff["admin"],
            moderator=staff["mod_mia"],
            merchants=[staff["acme_store"], staff["green_grocer"]],
            members=members,
        )
        _trust_levels(ctx)
        _board(ctx)
        db.session.commit()
        for module in _steps():
            module.build(ctx)
            db.session.commit()
        # Placed as of the end of the build: what started during it stays started.
        moderation.set_mark(CLOCK_MARK, now().isoformat())
        db.session.commit()
    finally:
        config["RATELIMIT_ENABLED"], config["PASSWORD_HASH_METHOD"] = saved
        config["FIRST_POSTS_HELD"] = held
    lines = [
        f"Demo ready: {len(ctx.everyone)} members, {len(ctx.threads)} threads.",
        f"Log in as admin / {DEMO_PASSWORD} (also mod_mia, acme_store, alice ... same password).",
        *ctx.summary,
    ]
    return "\n".join(lines)


def _steps():
    """The feature demo modules present, in ``FEATURE_STEPS`` order."""
    for name in FEATURE_STEPS:
        try:
            yield importlib.import_module(f"forum.{name}.demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"forum.{name}.demo" and exc.name != f"forum.{name}":
                raise


def refresh_times(at: datetime | None = None) -> str:
    """Place the demo's time-boxed offers relative to ``at`` (now) again, as they were
    placed relative to the moment the demo was built: ``make run`` calls this at every
    start, so a newcomer who comes back the next day still finds running snap-ups, a live
    auction, an open guessing game, forming teams and upcoming events. Each feature demo
    with a ``refresh(since, at)`` moves its own rows; the mark then says ``at``."""
    at = at or now()
    raw = moderation.mark(CLOCK_MARK)
    if raw is None:
        return "No demo clock here (not a demo database): nothing moved."
    since = datetime.fromisoformat(raw)
    if at - since < timedelta(minutes=1):
        return "The demo's offers are current."
    moved = [module.refresh(since, at) for module in _steps() if hasattr(module, "refresh")]
    moderation.set_mark(CLOCK_MARK, at.isoformat())
    db.session.commit()
    return f"Demo offers moved on by {at - since} to stay live: " + "; ".join(moved) + "."


def _trust_levels(ctx: DemoContext) -> None:
    """The demo's regulars have been around: a leader, regulars, members and basics (the
    TL0 newcomers come last, in ``forum.trust.demo``, so they take part in nothing else)."""
    levels = [4, 3, 3, 2, 2, 2]
    for index, user in enumerate(ctx.members):
        level = levels[index] if index < len(levels) else 1
        trust.grant(ctx.moderator, user, level, "Demo history: an established member")


def _voice(user: User, rng: random.Random, thing: str) -> str:
    lines = VOICES.get(user.username, PLAIN)
    return rng.choice(lines).format(thing=thing)


def _others(ctx: DemoContext, author: User) -> list[User]:
    return [m for m in ctx.members if m.id != author.id]


def _thread(ctx: DemoContext, category, author: User, title: str, body: str):
    thread = board.create_thread(author, category, title, body)
    ctx.threads.append(thread)
    return thread


def _board(ctx: DemoContext) -> None:
    rng = ctx.rng
    categories = {
        slug: board.create_category(ctx.admin, slug, name, text) for slug, name, text in CATEGORIES
    }
    by_name = {u.username: u for u in ctx.everyone}
    start = now() - timedelta(days=30)
    for slug, topics in TOPICS.items():
        for title, opener, replies in topics:
            author = ctx.admin if slug == "announcements" else rng.choice(ctx.members[:12])
            thread = _thread(ctx, categories[slug], author, title, opener)
            for name, text in replies:
                replier = by_name.get(name) or rng.choice(_others(ctx, author)[12:])
                board.reply(replier, thread, text)
    # Everyday threads about things members own, each in the category it belongs to.
    deals = categories["deals"]
    for index in range(170):
        slug = rng.choice(sorted(THINGS))
        thing = rng.choice(THINGS[slug])
        author = rng.choice(ctx.members)
        if index % 9 == 0:
            title = rng.choice(DEAL_TITLES).format(thing=thing)
            thread = _thread(ctx, deals, author, title, DEAL_OPENER.format(thing=thing))
        else:
            pattern = rng.choice(sorted(PATTERNS))
            title = pattern.format(thing=thing, Thing=thing[0].upper() + thing[1:])
            opener = PATTERNS[pattern].format(thing=thing)
            thread = _thread(ctx, categories[slug], author, title, opener)
        review = "review" in thread.title
        repliers = rng.sample(_others(ctx, author), rng.randint(1, 6 if index % 10 else 20))
        for replier in repliers:
            text = (
                rng.choice(REVIEW_REPLIES)
                if review and rng.random() < 0.5
                else _voice(replier, rng, thing)
            )
            board.reply(replier, thread, text)
        if len(repliers) >= 3 and not review and rng.random() < 0.5:
            board.reply(author, thread, rng.choice(THANKS).format(name=repliers[0].username))
    # Spread the activity over the last month so listings look lived-in.
    moments = sorted(
        start + timedelta(minutes=rng.randint(0, 30 * 24 * 60)) for _ in range(len(ctx.threads))
    )
    for thread, moment in zip(rng.sample(ctx.threads, len(ctx.threads)), moments, strict=True):
        posts = db.session.scalars(
            db.select(Post).where(Post.thread_id == thread.id).order_by(Post.position)
        ).all()
        when = moment
        step = (now() - moment) / (len(posts) + 1)
        for post in posts:
            post.created_at = when
            when += step * rng.uniform(0.2, 1.0)
        thread.created_at = posts[0].created_at
        thread.last_activity_at = posts[-1].created_at
    ctx.threads[0].pinned = True
    ctx.summary.append(
        f"{sum(t.post_count for t in ctx.threads)} posts in {len(categories)} categories."
    )
