"""The demo community behind `make run`: members, categories, threads and posts.

Feature packages add their part in a ``demo.py`` of their own with
``build(ctx: DemoContext)``; they run after the board, in ``FEATURE_STEPS`` order.
"""

import importlib
import random
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app

from .accounts import service as accounts
from .accounts.models import User
from .board import service as board
from .board.models import Post, Thread
from .clock import now
from .extensions import db
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
    "search",  # last: indexes what every step wrote
)
DEMO_PASSWORD = "plaza-demo"
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
CATEGORIES = (
    ("announcements", "Announcements", "News from the Plaza team."),
    ("deals", "Deals & group-buys", "Offers from our merchants, group-buys and flash sales."),
    ("kitchen", "Kitchen & food", "Recipes, gadgets and what's cooking."),
    ("tech", "Tech talk", "Phones, laptops, home networks and gadgets."),
    ("meetups", "Meet-ups & events", "Get together online and in town."),
    ("off-topic", "Off-topic", "Everything else."),
)
TOPICS = {
    "announcements": [
        "Welcome to Plaza!",
        "House rules, short version",
        "New: product cards in chat",
    ],
    "deals": [
        "Best budget headphones this month?",
        "Group-buy etiquette",
        "Is the snap-up worth it?",
        "Share your best bargain",
        "Price tracking tips",
    ],
    "kitchen": [
        "Sourdough starter troubleshooting",
        "Cast iron care",
        "Weeknight noodle recipes",
        "Which chef's knife?",
        "Fermenting hot sauce",
        "Meal prep for the week",
    ],
    "tech": [
        "Mechanical keyboards for beginners",
        "Home NAS on a budget",
        "Which e-reader?",
        "Wi-Fi dead zones",
        "Linux on an old laptop",
        "USB-C chargers explained",
    ],
    "meetups": [
        "Saturday board-game night",
        "Photo walk by the river",
        "Online book club: March pick",
    ],
    "off-topic": [
        "What are you reading?",
        "Favourite podcasts",
        "Show your desk setup",
        "Rainy day movies",
    ],
}
SNIPPETS = [
    "I've been using this for **three months** now and it's held up well.",
    "Has anyone compared the two? The reviews I found are all over the place.",
    "Tip: check the *return policy* first, it saved me once.\n\n- keep the box\n- photograph the serial",
    "Here's what worked for me:\n\n1. start small\n2. measure twice\n3. ask here before buying",
    "> the best tool is the one you actually use\n\nCouldn't agree more.",
    "Quick code snippet for the curious:\n\n```python\nprint('hello plaza')\n```",
    "Thanks, that's exactly what I needed!",
    "Bookmarking this thread. Great answers all round.",
    "I disagree a little: price isn't everything, support matters too.",
    "See the [manufacturer's guide](https://example.com/guide) for the details.",
]


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
        for name in FEATURE_STEPS:
            try:
                module = importlib.import_module(f"forum.{name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"forum.{name}.demo" and exc.name != f"forum.{name}":
                    raise
                continue
            module.build(ctx)
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


def _trust_levels(ctx: DemoContext) -> None:
    """The demo's regulars have been around: a leader, regulars, members and basics (the
    TL0 newcomers come last, in ``forum.trust.demo``, so they take part in nothing else)."""
    levels = [4, 3, 3, 2, 2, 2]
    for index, user in enumerate(ctx.members):
        level = levels[index] if index < len(levels) else 1
        trust.grant(ctx.moderator, user, level, "Demo history: an established member")


def _board(ctx: DemoContext) -> None:
    rng = ctx.rng
    categories = {
        slug: board.create_category(ctx.admin, slug, name, text) for slug, name, text in CATEGORIES
    }
    start = now() - timedelta(days=30)
    for slug, titles in TOPICS.items():
        for title in titles:
            author = ctx.admin if slug == "announcements" else rng.choice(ctx.members)
            body = rng.choice(SNIPPETS) + "\n\n" + rng.choice(SNIPPETS)
            thread = board.create_thread(author, categories[slug], title, body)
            ctx.threads.append(thread)
            replies = rng.randint(2, 18)
            for _ in range(replies):
                replier = rng.choice(ctx.everyone)
                text = rng.choice(SNIPPETS)
                if rng.random() < 0.15:
                    text = f"@{thread.author.username} " + text
                board.reply(replier, thread, text)
    things = [
        "air fryer",
        "standing desk",
        "rice cooker",
        "trail shoes",
        "phone case",
        "espresso grinder",
        "robot vacuum",
        "monitor arm",
        "tea kettle",
        "router",
        "backpack",
        "smart plug",
        "e-bike",
        "noise-cancelling earbuds",
        "camping stove",
        "desk lamp",
        "yoga mat",
        "blender",
    ]
    patterns = [
        "Thoughts on the {}?",
        "Best {} under $100",
        "My {} review after a month",
        "{} recommendations",
        "Anyone returned their {}?",
        "Is a {} worth it?",
        "{}: what to look for",
    ]
    general = [c for c in categories.values() if c.slug != "announcements"]
    for index in range(170):
        title = rng.choice(patterns).format(rng.choice(things))
        title = title[0].upper() + title[1:]
        thread = board.create_thread(
            rng.choice(ctx.members), rng.choice(general), title, rng.choice(SNIPPETS)
        )
        ctx.threads.append(thread)
        for _ in range(rng.randint(0, 6 if index % 10 else 40)):
            board.reply(rng.choice(ctx.everyone), thread, rng.choice(SNIPPETS))
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
