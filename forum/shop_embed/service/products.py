"""Products: listing, editing, images, archiving; who may see them."""

from flask import url_for
from sqlalchemy import Select, select, update
from sqlalchemy.orm import joinedload

from ... import markup, signals
from ...clock import now
from ...database import rows_by_id, update_row
from ...errors import Conflict, NotFound, ValidationFailed
from ...extensions import db
from ...pagination import id_batch
from ...permissions import can_moderate
from ..images import IMAGES
from ..models import Merchant, Product
from .common import (
    CURRENCIES,
    DESCRIPTION_MAX,
    MAX_PRICE_CENTS,
    MAX_STOCK,
    NAME_MAX,
    _text,
    _whole,
    is_admin,
    is_merchant,
)
from .merchants import merchant_of, require_merchant
from .stock import _announce_stock, _release_expired_holds

# Who may buy an offer: everyone, or members of a tier and above (members enforces it).
AUDIENCES = ("all", "shopper", "vip")


def _check_product(
    errors: dict,
    *,
    name=None,
    description=None,
    price_cents=None,
    currency=None,
    stock=None,
    active=None,
    audience=None,
    free_shipping_excluded=None,
    merchant: Merchant,
    partial: bool = False,
) -> dict:
    values: dict = {}
    if audience is not None:
        if audience not in AUDIENCES:
            errors["audience"] = [f"Choose one of {', '.join(AUDIENCES)}."]
        values["audience"] = audience
    if free_shipping_excluded is not None:
        if not isinstance(free_shipping_excluded, bool):
            errors["free_shipping_excluded"] = ["Use true or false."]
        values["free_shipping_excluded"] = free_shipping_excluded
    if not partial or name is not None:
        values["name"] = _text(name, "name", 2, NAME_MAX, f"Use 2-{NAME_MAX} characters.", errors)
    if not partial or description is not None:
        if description is None:
            description = ""
        if not isinstance(description, str) or len(description) > DESCRIPTION_MAX:
            errors["description"] = [f"Keep it under {DESCRIPTION_MAX:,} characters."]
        else:
            values["description"] = description
    if not partial or price_cents is not None:
        values["price_cents"] = _whole(
            price_cents,
            "price_cents",
            0,
            MAX_PRICE_CENTS,
            "Use a price of 0 or more (in cents), at most 100,000,000.",
            errors,
        )
    if not partial or currency is not None:
        if currency not in CURRENCIES:
            errors["currency"] = [f"Choose one of {', '.join(CURRENCIES)}."]
        elif currency != merchant.currency:
            errors["currency"] = [f"Your shop sells in {merchant.currency}."]
        values["currency"] = currency
    if not partial or stock is not None:
        values["stock"] = _whole(
            stock, "stock", 0, MAX_STOCK, f"Use a whole number from 0 to {MAX_STOCK:,}.", errors
        )
    if active is not None:
        if not isinstance(active, bool):
            errors["active"] = ["Use true or false."]
        values["active"] = active
    return values


def create_product(
    actor,
    *,
    name,
    description="",
    price_cents,
    currency=None,
    stock,
    active=True,
    audience="all",
    free_shipping_excluded=False,
    image: bytes | None = None,
) -> Product:
    """A new product of ``actor``'s shop. Raises Forbidden (not a merchant) or ValidationFailed."""
    merchant = require_merchant(actor, currency=currency)
    errors: dict[str, list[str]] = {}
    values = _check_product(
        errors,
        name=name,
        description=description,
        price_cents=price_cents,
        currency=currency or merchant.currency,
        stock=stock,
        active=active,
        audience=audience,
        free_shipping_excluded=free_shipping_excluded,
        merchant=merchant,
    )
    if errors:
        raise ValidationFailed("Please correct the highlighted fields.", fields=errors)
    image_name = IMAGES.store(image) if image is not None else None
    at = now()
    product = Product(
        merchant_id=merchant.id,
        description_html=markup.render(values["description"]).html,
        image_name=image_name,
        created_at=at,
        updated_at=at,
        **values,
    )
    db.session.add(product)
    db.session.flush()
    signals.search_stale.send("product", ids=[product.id])
    return product


def owns_product(user, product: Product) -> bool:
    merchant = merchant_of(user) if is_merchant(user) else None
    return merchant is not None and merchant.id == product.merchant_id


def check_owner(actor, product: Product) -> Merchant:
    """The actor's shop when it owns ``product``; otherwise 404 (others may not even see drafts)."""
    merchant = merchant_of(actor) if is_merchant(actor) else None
    if merchant is None or product.merchant_id != merchant.id:
        raise NotFound("No such product.")
    return merchant


def update_product(actor, product: Product, *, stock_seen=None, **changes) -> Product:
    """Change some of name, description, price_cents, currency, stock, active, audience,
    free_shipping_excluded (owner only).

    ``stock`` sets what can be bought from now on; expired holds are released first
    so the number the merchant sees is the number that counts. ``stock_seen`` is the
    stock the merchant's form showed: a ``stock`` equal to it is no change (sales may
    have moved the real stock since), so only a number the merchant typed is written.
    """
    merchant = check_owner(actor, product)
    if _unchanged_stock(changes.get("stock"), stock_seen):
        changes.pop("stock")
    if product.is_archived:
        raise Conflict("This product is archived.", code="product_archived")
    unknown = set(changes) - {
        "name",
        "description",
        "price_cents",
        "currency",
        "stock",
        "active",
        "audience",
        "free_shipping_excluded",
    }
    if unknown:
        raise ValidationFailed(fields={name: ["Unknown field."] for name in sorted(unknown)})
    errors: dict[str, list[str]] = {}
    values = _check_product(errors, merchant=merchant, partial=True, **changes)
    if errors:
        raise ValidationFailed("Please correct the highlighted fields.", fields=errors)
    stock = values.pop("stock", None)
    for key, value in values.items():
        setattr(product, key, value)
    if "description" in values:
        product.description_html = markup.render(values["description"]).html
    product.updated_at = now()
    db.session.flush()
    if stock is not None:
        _release_expired_holds(product.id)
        update_row(product, stock=stock)
        db.session.refresh(product)
    signals.search_stale.send("product", ids=[product.id])
    _announce_stock([product.id])
    return product


def _unchanged_stock(stock, seen) -> bool:
    if isinstance(seen, str):
        seen = int(seen) if seen.isdigit() else None
    if isinstance(seen, bool) or not isinstance(seen, int):
        return False
    return isinstance(stock, int) and not isinstance(stock, bool) and stock == seen


def set_product_image(actor, product: Product, data: bytes) -> Product:
    check_owner(actor, product)
    name = IMAGES.store(data)
    old, product.image_name = product.image_name, name
    product.updated_at = now()
    db.session.flush()
    IMAGES.remove(old)
    return product


def archive_product(actor, product: Product) -> Product:
    """Archive (never delete: orders point at it). Its cards show "offer unavailable"."""
    check_owner(actor, product)
    if product.archived_at is None:
        product.archived_at = now()
        product.active = False
        product.updated_at = product.archived_at
        db.session.flush()
        signals.search_stale.send("product", ids=[product.id])
        _announce_stock([product.id])
    return product


def merchant_product(merchant: Merchant, product_id) -> Product | None:
    """``merchant``'s product ``product_id`` if it is on sale, else None (a promotion's pick)."""
    if not isinstance(product_id, int) or isinstance(product_id, bool):
        return None
    product = db.session.get(Product, product_id)
    if product is None or product.merchant_id != merchant.id or not product.is_buyable:
        return None
    return product


def listed_product_ids() -> Select:
    """``SELECT id`` of products still listed (not archived), to filter offers of them."""
    return select(Product.id).where(Product.archived_at.is_(None))


def buyable_product_ids() -> Select:
    """``SELECT id`` of products on sale (active, not archived, not hidden): a SQL
    expression for another feature's own query (``column.in_(buyable_product_ids())``,
    reviews' search)."""
    return select(Product.id).where(Product.is_buyable)


def find_product(product_id: int) -> Product | None:
    """The product ``product_id`` without a viewer check, for other features' rules on
    a product they already hold a row of (reviews' recount)."""
    return db.session.get(Product, product_id)


def with_merchant(product_relationship):
    """A loader option for another feature's query: joined-load its relationship
    ``product_relationship`` (e.g. ``Auction.product``) and that product's merchant."""
    return joinedload(product_relationship).joinedload(Product.merchant)


def product_heads() -> Select:
    """``SELECT id, name, price_cents, currency, archived_at, hidden_at, merchant_name, merchant_user_id``
    of every product: what another feature's widget head shows of a product and its shop, as
    a SQL expression it joins as a subquery (promotions' widget states read it in the same
    statement as their own rows). A widget template reading another column adds it here."""
    return select(
        Product.id,
        Product.name,
        Product.price_cents,
        Product.currency,
        Product.archived_at,
        Product.hidden_at,
        Merchant.name.label("merchant_name"),
        Merchant.user_id.label("merchant_user_id"),
    ).join(Merchant, Merchant.id == Product.merchant_id)


def products_with_ids(product_ids) -> dict[int, Product]:
    """Product id -> product (its merchant loaded) for the ids among ``product_ids``."""
    return rows_by_id(Product, product_ids, joinedload(Product.merchant))


def get_product(product_id: int, viewer=None) -> Product:
    """A product anyone may see (active, not archived, not hidden by moderation); its
    owner and admins see all of theirs, moderators the hidden ones they decide on."""
    product = db.session.get(Product, product_id) if isinstance(product_id, int) else None
    if product is None:
        raise NotFound("No such product.")
    moderating = product.hidden_at is not None and can_moderate(viewer)
    if not product.is_buyable and not (is_admin(viewer) or moderating):
        owner = merchant_of(viewer) if is_merchant(viewer) else None
        if owner is None or owner.id != product.merchant_id:
            raise NotFound("No such product.")
    return product


def set_hidden_by_moderation(product_id: int, hidden: bool, reason: str = "") -> bool:
    """Moderation hides a product (its flags were upheld, or passed the flag score) or
    restores it: one conditional UPDATE, so a repeat changes nothing. Hidden, it leaves
    pages, cards, carts, search and sale (``is_buyable``). True when it moved; the
    audit entry is moderation's."""
    moved = db.session.execute(
        update(Product)
        .where(
            Product.id == product_id,
            Product.hidden_at.is_(None) if hidden else Product.hidden_at.is_not(None),
        )
        .values(
            hidden_at=now() if hidden else None,
            hidden_reason=(reason or "")[:200] if hidden else None,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    product = db.session.get(Product, product_id)
    if product is not None:
        db.session.expire(product, ["hidden_at", "hidden_reason"])
    if moved:
        signals.search_stale.send("product", ids=[product_id])
        _announce_stock([product_id])
    return bool(moved)


def merchant_products(
    merchant: Merchant, *, include_archived: bool = False, only_buyable: bool = False
) -> list[Product]:
    query = select(Product).where(Product.merchant_id == merchant.id)
    if not include_archived:
        query = query.where(Product.archived_at.is_(None))
    if only_buyable:
        query = query.where(Product.is_buyable)
    return list(
        db.session.scalars(query.order_by(Product.archived_at.isnot(None), Product.id.desc()))
    )


def featured_products(limit: int = 12) -> list[Product]:
    return list(
        db.session.scalars(
            select(Product)
            .options(joinedload(Product.merchant))
            .where(Product.is_buyable)
            .order_by(Product.id.desc())
            .limit(limit)
        )
    )


def apply_rating(product_id: int, *, add: int | None = None, remove: int | None = None) -> None:
    """Move ``product_id``'s review aggregates by one review in one SQL statement:
    ``add`` a rating that now counts, ``remove`` one that no longer does (both for an
    edit). For the reviews feature, inside the transaction that changed the review;
    the statement adds to the stored columns, so concurrent reviews never lose one."""
    values: dict = {}
    count = (1 if add else 0) - (1 if remove else 0)
    if count:
        values["rating_count"] = Product.rating_count + count
    if (add or 0) != (remove or 0):
        values["rating_sum"] = Product.rating_sum + (add or 0) - (remove or 0)
    for rating, step in ((add, 1), (remove, -1)):
        if rating:
            if not 1 <= rating <= 5:
                raise ValueError(rating)
            column = getattr(Product, f"rating_{rating}")
            if column.key in values:
                values.pop(column.key)  # an edit to the same rating changes nothing
            else:
                values[column.key] = column + step
    if values:
        db.session.execute(
            update(Product)
            .where(Product.id == product_id)
            .values(values)
            .execution_options(synchronize_session=False)
        )
        product = db.session.get(Product, product_id)
        if product is not None:
            db.session.expire(product, ["rating_count", "rating_sum", *RATING_COLUMNS])
    signals.search_stale.send("product", ids=[product_id])  # its reviews' text changed


RATING_COLUMNS = tuple(f"rating_{n}" for n in range(1, 6))


def set_rating(product_id: int, *, count: int, total: int, histogram: dict[int, int]) -> None:
    """Overwrite the aggregates with a recount (``reviews.recount_ratings``)."""
    db.session.execute(
        update(Product)
        .where(Product.id == product_id)
        .values(
            rating_count=count,
            rating_sum=total,
            **{f"rating_{n}": histogram.get(n, 0) for n in range(1, 6)},
        )
        .execution_options(synchronize_session=False)
    )
    product = db.session.get(Product, product_id)
    if product is not None:
        db.session.expire(product, ["rating_count", "rating_sum", *RATING_COLUMNS])


def search_documents(ids=None, *, after: int = 0, limit: int = 1000):
    """Search documents for listed products (``ids``, or the next ``limit`` past
    ``after``): name over description; the product is an offer while on sale.
    Returns (documents, the last id scanned when more may follow, else None)."""
    from ...search.schemas import Document

    query = select(Product).where(Product.archived_at.is_(None), Product.hidden_at.is_(None))
    rows, last = id_batch(query, Product.id, ids, after=after, limit=limit)
    docs = [
        Document.of_row(
            "product",
            product.id,
            url=url_for("shop_embed.product", product_id=product.id),
            title=product.name,
            body=markup.plain_text(product.description_html),
            has_offer=product.is_buyable,
            created_at=product.created_at,
        )
        for product in rows
    ]
    return docs, last
