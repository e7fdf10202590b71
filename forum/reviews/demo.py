"""Demo reviews: buyers who completed orders review the demo products (a spread of
ratings, helpful votes, a merchant reply), two experience reports in a category
marked for them (one approved and rewarded, one waiting), and the rewards in the
members' wallet histories."""

import logging
from collections import Counter

from sqlalchemy import select

from ..board import service as board
from ..errors import ServiceError
from ..extensions import db
from ..shop_embed import service as shop
from ..shop_embed.models import Product
from . import service

log = logging.getLogger(__name__)

REVIEWS = (
    # (product index, rating, title, body)
    (
        0,
        5,
        "Quiet train rides at last",
        "The noise cancelling is genuinely good: the tram's hum just disappears. "
        "Battery lasted a whole week of commuting with the case. The medium tips fit me out of the box.",
    ),
    (
        0,
        4,
        "Great sound, fiddly case",
        "Sound and ANC are excellent for the price. The case lid is a bit loose "
        "and I've dropped an earbud once because of it. Still recommend.",
    ),
    (
        0,
        2,
        "Left earbud cuts out",
        "Lovely when it works, but the left one drops the connection every few "
        "minutes near my desk. Support suggested a reset; it helped for a day.",
    ),
    (
        1,
        5,
        "Charges everything I own",
        "Laptop, phone and a power bank at once, and it stays cool. "
        "The folding plug is a lifesaver in a travel bag.",
    ),
    (1, 4, "Small and strong", "Does what it says. Only wish the cable were longer than 1 m."),
    (
        2,
        5,
        "The best coffee I've made at home",
        "Took a weekend to dial in the grind, now the espresso is "
        "better than my café's. Steam wand is weak-ish but fine for one cup.",
    ),
    (
        2,
        3,
        "Good beans, loud grinder",
        "Flavour is great. The grinder is loud enough to wake the house at 6 am.",
    ),
    (
        3,
        4,
        "Fresh and well packed",
        "Arrived cold, nothing bruised. The strawberries were the highlight.",
    ),
)
# One regular reviews widely (their REVIEWS entry is index WIDE_REVIEWER): three
# reviews each found helpful by two members earn "trusted reviewer" by the rule.
WIDE_REVIEWER = 3
WIDE_REVIEWS = (
    (2, 4, "Solid, if you are patient", "Takes a few tries to get right, then it is great."),
    (3, 5, "Would order again", "Well packed, arrived on time, exactly as described."),
)
REPORTS = (
    (
        0,
        "Three months of commuting with the noise-cancelling earbuds",
        "I bought these in the spring group-buy and have used them every day since.\n\n"
        "**What works:** the ANC, the battery, the fit.\n\n**What doesn't:** the case lid, "
        "and the touch controls when it rains.\n\nWould buy again at the group price.",
    ),
    (
        2,
        "Espresso at home: a beginner's month",
        "A long write-up of my first month with the machine: grind sizes, beans from the "
        "grocer, and the mistakes I made so you don't have to.",
    ),
)


def _products() -> list[Product]:
    """Products with stock for every order this step places on one of them (earlier
    steps' promotions and attributed orders have sold some)."""
    needed = max(Counter(entry[0] for entry in REVIEWS + WIDE_REVIEWS + REPORTS).values())
    return list(
        db.session.scalars(
            select(Product)
            .where(Product.active.is_(True), Product.archived_at.is_(None), Product.stock >= needed)
            .order_by(Product.id)
        )
    )


def _completed_order(buyer, product: Product, n: int):
    order, _ = shop.place_order(
        buyer,
        [(product.id, 1)],
        shipping_address={
            "name": buyer.username.title(),
            "line1": f"{10 + n} Review Road",
            "city": "Springfield",
            "postal_code": f"{20000 + n}",
            "country": "US",
        },
    )
    shop.pay(buyer, order, "sandbox")
    shop.ship(order.merchant.user, order, tracking=f"RV{order.id:06d}")
    shop.complete(buyer, order)
    return order


def build(ctx) -> None:
    products = _products()
    if len(products) < 4 or len(ctx.members) < 14:
        log.warning("demo: no reviews (%d products in stock)", len(products))
        return
    members = list(ctx.members)
    written = []
    wide = [(WIDE_REVIEWER, entry) for entry in WIDE_REVIEWS]
    for n, (author, (index, rating, title, body)) in enumerate([*enumerate(REVIEWS), *wide]):
        buyer = members[author]
        product = products[index % len(products)]
        try:
            order = _completed_order(buyer, product, n)
            written.append(
                service.create_review(
                    buyer, product.id, order_id=order.id, rating=rating, title=title, body=body
                )
            )
        except ServiceError as exc:
            log.warning("demo: review %s not written: %s", n, exc.message)
    for n, review in enumerate(written):
        many = 2 if review.author_id == members[WIDE_REVIEWER].id else (len(written) - n) % 5
        for voter in members[12 : 12 + many]:
            if voter.id != review.author_id:
                service.vote_helpful(voter, review)
    if len(written) > 2:  # the shop answers the 2-star review
        unhappy = written[2]
        service.reply(
            db.session.get(Product, unhappy.product_id).merchant.user,
            unhappy,
            "Sorry about that! Please write to us from your order page and we'll send a "
            "replacement left earbud straight away.",
        )
    category = board.create_category(
        ctx.admin,
        "experiences",
        "Experience reports",
        "Long-form reports from members who bought something here.",
    )
    board.set_experience_reports(ctx.admin, category, True)
    reports = []
    for n, (index, title, body) in enumerate(REPORTS):
        buyer = members[8 + n]
        product = products[index % len(products)]
        order = _completed_order(buyer, product, 100 + n)
        reports.append(
            service.create_report(
                buyer, category, order_item_id=order.items[0].id, title=title, body=body
            )
        )
    if reports:
        service.decide_report(
            ctx.moderator, reports[0], approve=True, reason="A useful, honest report."
        )
    db.session.flush()
    ctx.summary.append(
        f"Reviews: {len(written)} reviews with rewards, a merchant reply, {len(reports)} "
        "experience reports (one approved, one waiting in /mod/reviews)."
    )
