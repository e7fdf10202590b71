"""The product card widget for posts and chat, and who may watch its live room."""

from dataclasses import dataclass

from flask import render_template, url_for
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ... import embeds, signals
from ...errors import NotFound
from ...extensions import db
from ...moderation.schemas import Target, target_answer
from ..models import Product
from .products import get_product
from .stock import available_stock, offer_room, stock_state


@dataclass(frozen=True)
class Card:
    product: Product
    stock: int


def load_cards(ids: list[int]) -> dict[int, Card]:
    """One query (plus one for stock) for every product card on a page; unavailable ones are left out."""
    products = db.session.scalars(
        select(Product)
        .options(joinedload(Product.merchant))
        .where(Product.id.in_(ids), Product.is_buyable)
    ).all()
    stock = available_stock(p.id for p in products)
    return {p.id: Card(p, stock.get(p.id, 0)) for p in products}


def image_url(product: Product) -> str | None:
    if not product.image_name:
        return None
    return url_for("shop_embed.image", name=product.image_name)


def product_url(product: Product) -> str:
    return url_for("shop_embed.product", product_id=product.id)


def render_card(card: Card, context: embeds.EmbedContext, href: str) -> Markup:
    # Autoescaped template output: trusted markup (user text inside it is escaped).
    return Markup(
        render_template(  # noqa: S704
            "shop_embed/_card.html",
            product=card.product,
            stock=card.stock,
            shown=stock_state(card.stock),
            href=href,
            room=offer_room(card.product.id),
            image=image_url(card.product),
            context=context,
        )
    )


def card_url(card: Card) -> str:
    return product_url(card.product)


PRODUCT_WIDGET = embeds.WidgetKind(
    kind="product", load=load_cards, render=render_card, url=card_url
)


def product_widget(kind: str) -> embeds.WidgetKind:
    """The ``signals.widget_for`` answer for ``[[product:ID]]`` (connected in ``init_app``)."""
    return PRODUCT_WIDGET


# Who may watch ``offer:<kind>:<id>`` rooms: ``signals.offer_watch_allowed``, asked
# with the offer kind (shop answers "product"; promotions its kinds), connected in
# each feature's init_app.
def may_watch_offer(room_kind: str, *, user, rest: str) -> bool:
    kind, _, ident = rest.partition(":")
    if not (kind and ident.isdigit() and len(ident) <= 12):
        return False
    return bool(signals.ask(signals.offer_watch_allowed, kind, user=user, ident=int(ident)))


def may_watch_product(kind: str, *, user, ident: int) -> bool:
    try:
        get_product(ident, viewer=user)
    except NotFound:
        return False
    return True


# --- moderation's question about products (flags, the review queue) ------------------


@target_answer(get_product)
def describe_product(product: Product) -> Target:
    """The product as moderation's viewer may see it, its merchant's account as the
    "author"."""
    return Target(
        kind="product",
        id=product.id,
        author_id=product.merchant.user_id,
        url=url_for("shop_embed.product", product_id=product.id),
        context=f"the product “{product.name}”",
        body_html=Markup(product.description_html),  # noqa: S704 (sanitised when stored)
        hidden=product.hidden_at is not None,
    )


def hide_product(kind: str, *, target_id: int, hidden: bool, actor=None, reason: str = "", **_):
    """Moderation's decision, or the flag score (``actor`` None), hides or restores a
    product for members; moderation writes the audit entry."""
    from .products import set_hidden_by_moderation

    if db.session.get(Product, target_id) is None:
        return False
    set_hidden_by_moderation(target_id, hidden, reason)
    return True
