"""Demo moderation: written guidelines, a few flagged posts waiting in the queue (one
auto-hidden by its score), a flagged profile and product, a new account's held first
post, and a silenced spammer."""

from flask import current_app

from ..accounts import service as accounts
from ..board import service as board
from ..shop_embed import service as shop
from . import service

GUIDELINES = """## How we talk here

- **Be kind.** Disagree with ideas, not people.
- **Stay on topic.** Deals go in *Deals*, meet-ups in *Meet-ups*.
- **No spam.** No unsolicited links, referral codes or copy-pasted ads.
- **Be honest about what you sell.** Merchants say they are merchants.

Flag what breaks these rules; moderators decide, and tell the author why.
"""


def build(ctx) -> None:
    service.update_settings(
        ctx.admin, {"guidelines": GUIDELINES, "site_name": "Plaza"}, "the demo's house rules"
    )
    members, threads = ctx.members, ctx.threads
    # A spammer whose first post waits in the queue; the moderators silenced them.
    spammer = accounts.register("cheap_watches_4u", "watches@spam.example", "plaza-demo")
    spammer.bio = "Best replica watches!!! Visit cheap-watches.example"
    config = current_app.config
    saved, config["FIRST_POSTS_HELD"] = config["FIRST_POSTS_HELD"], 2
    try:
        board.reply(spammer, threads[0], "Amazing deals on watches at cheap-watches.example !!!")
    finally:
        config["FIRST_POSTS_HELD"] = saved
    service.silence(
        ctx.moderator, spammer, 7 * 24 * 60, "Posting the same advert in several threads."
    )
    # Flagged posts by members, flagged by others: one gathers enough score to hide. The
    # newest members flag (the lowest trust, so the lightest flags): the others stay under
    # the threshold whatever levels the demo's regulars have reached.
    flagged = []
    for thread in threads[1:]:
        post = board.first_post(thread)
        if post is not None and post.author_id in {m.id for m in members}:
            flagged.append(post)
        if len(flagged) == 3:
            break
    for index, post in enumerate(flagged):
        others = sorted(
            (m for m in members if m.id != post.author_id), key=lambda m: m.trust_level or 0
        )
        flaggers = others[:4] if index == 0 else others[:1]
        for flagger in flaggers:
            service.flag(
                flagger,
                "post",
                post.id,
                ("off_topic", "inappropriate", "spam")[index % 3],
                "Belongs in another category." if index % 3 == 0 else "",
                author_id=post.author_id,
            )
    for flagger in sorted(members, key=lambda m: m.trust_level or 0)[:1]:
        service.flag(
            flagger, "user", spammer.id, "spam", "The profile is an advert.", author_id=spammer.id
        )
        # A product a member thinks is counterfeit: agreeing hides it from members.
        products = shop.featured_products(limit=1)
        if products:
            service.flag(
                flagger,
                "product",
                products[0].id,
                "other",
                "Looks like a counterfeit of a known brand.",
                author_id=products[0].merchant.user_id,
            )
    ctx.summary.append(
        f"Moderation: {service.pending_count()} items wait in the review queue (log in as "
        "mod_mia: /mod/queue); cheap_watches_4u is silenced."
    )
