"""Attribution test helpers: a stand-in offer widget, posts that embed it, journeys.

The ledger's own rules are tested against ``offers``: a small ``product`` widget
registered for the test (monkeypatch puts the shop's card back afterwards), so a
journey needs no merchant profile, stock or payment. Attribution sees it through
``forum.embeds`` and the ``offers.KINDS`` table exactly like the shop's card;
test_shop_integration.py runs the same rules through real shop orders.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import time_machine
from markupsafe import Markup

from forum import embeds
from forum.accounts.models import User
from forum.attribution import offers as offer_kinds
from forum.attribution import service
from forum.attribution.models import Click, Commission, Conversion, Credit
from forum.board import service as board
from forum.board.models import Post, Thread
from forum.extensions import db
from forum.markup import EmbedRef
from tests.conftest import app_context

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Offer:
    id: int
    merchant_id: int
    name: str


class Offers:
    def __init__(self):
        self.items: dict[int, Offer] = {}

    def add(self, merchant, name: str = "Test kettle") -> int:
        offer_id = len(self.items) + 1
        self.items[offer_id] = Offer(offer_id, merchant.id, name)
        return offer_id


@pytest.fixture
def offers(monkeypatch):
    catalogue = Offers()
    widget = embeds.WidgetKind(
        kind="product",
        load=lambda ids: {i: catalogue.items[i] for i in ids if i in catalogue.items},
        render=lambda offer, ctx, href: Markup(
            '<a class="widget test-offer" href="{}">{}</a>'
        ).format(href, offer.name),
        url=lambda offer: f"/?offer={offer.id}",
    )
    # The shop's answer to signals.widget_for("product") is replaced for this test.
    real = embeds.widget
    monkeypatch.setattr(embeds, "widget", lambda kind: widget if kind == "product" else real(kind))
    monkeypatch.setitem(
        offer_kinds.KINDS,
        "product",
        offer_kinds.OfferKind(owner=lambda o: o.merchant_id, label=lambda o: o.name),
    )
    return catalogue


@pytest.fixture
def clock():
    """``clock.at(datetime)`` moves time (and keeps it still) for the rest of the test."""

    class Clock:
        def __init__(self):
            self.traveller = None

        def at(self, when: datetime):
            if self.traveller is not None:
                self.traveller.stop()
            self.traveller = time_machine.travel(when, tick=False)
            self.traveller.start()
            return when

        def stop(self):
            if self.traveller is not None:
                self.traveller.stop()
                self.traveller = None

    machine = Clock()
    yield machine
    machine.stop()


@pytest.fixture
def post_with_offer(app, make_thread):
    """``post_with_offer(author, offer_id)`` -> post id: a thread whose first post embeds the offer."""

    def create(author, offer_id: int, text: str = "Great kettle, see:") -> int:
        thread_id = make_thread(
            author, title=f"Thread about offer {offer_id}", body=f"{text}\n\n[[product:{offer_id}]]"
        )
        with app_context(app):
            return db.session.scalar(
                db.select(Post.id).where(Post.thread_id == thread_id, Post.position == 1)
            )

    return create


def tracked_href(app, post_id: int, offer_id: int) -> str:
    """The /go/ link the post's widget carries (as the page and the API show it)."""
    with app_context(app), app.test_request_context("/"):
        post = db.session.get(Post, post_id)
        return embeds.href(
            EmbedRef("product", offer_id), embeds.EmbedContext("post", post.id, post.author_id)
        )


def reply_with_offer(app, author, thread_id: int, offer_id: int) -> int:
    with app_context(app), app.test_request_context("/"):
        post = board.reply(
            db.session.get(User, author.id),
            db.session.get(Thread, thread_id),
            f"[[product:{offer_id}]]",
        )
        db.session.commit()
        return post.id


BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0 Safari/537.36"}
# What Plaza.touch sends (static/js/plaza.js): our script's fetch, with the CSRF token header.
TOUCH = {
    **BROWSER,
    "X-Plaza-Touch": "1",
    "X-CSRFToken": "set-by-the-page",
    "Sec-Fetch-Mode": "cors",
    "Sec-Fetch-Site": "same-origin",
    "Sec-Fetch-Dest": "empty",
}


def click(client, href: str):
    response = client.get(href, headers=BROWSER)
    assert response.status_code == 302, response.status_code
    return response


def facts(
    order_id,
    buyer,
    merchant,
    total=10_000,
    status="paid",
    paid_at=None,
    completed_at=None,
    refunded_at=None,
    currency="USD",
):
    return service.OrderFacts(
        order_id=order_id,
        buyer_id=buyer.id,
        merchant_id=merchant.id,
        total_cents=total,
        currency=currency,
        status=status,
        paid_at=paid_at,
        completed_at=completed_at,
        refunded_at=refunded_at,
    )


def set_rates(app, merchant, *, cps_rate_bp=1000, model="last", **cpa):
    with app_context(app):
        service.update_settings(
            db.session.get(User, merchant.id), cps_rate_bp=cps_rate_bp, model=model, cpa_cents=cpa
        )
        db.session.commit()


def ledger(app, merchant) -> dict:
    """Counts and sums straight from the tables, for comparing with what services say."""
    with app_context(app):
        rows = db.session.scalars(
            db.select(Commission).where(Commission.merchant_id == merchant.id)
        ).all()
        return {
            "conversions": db.session.scalar(
                db.select(db.func.count())
                .select_from(Conversion)
                .where(Conversion.merchant_id == merchant.id)
            ),
            "credits": db.session.scalar(
                db.select(db.func.count())
                .select_from(Credit)
                .join(Conversion)
                .where(Conversion.merchant_id == merchant.id)
            ),
            "rows": len(rows),
            "net_cents": sum(r.amount_cents for r in rows),
            "by_author": _by_author(rows),
            "clicks": db.session.scalar(db.select(db.func.count()).select_from(Click)),
        }


def _by_author(rows) -> dict:
    out: dict[int, int] = {}
    for row in rows:
        out[row.author_id] = out.get(row.author_id, 0) + row.amount_cents
    return out
