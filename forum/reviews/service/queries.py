"""Reading reviews: a product's list in three orders, the recount that proves the
aggregates, review text for search, threads that embed a product.

Full-text search is the ``search`` feature's: it adds ``review_texts`` (plain text per
product) to each product's document and re-reads it when a review changes."""

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from ...board import service as board
from ...errors import field_error
from ...extensions import db
from ...markup import plain_text
from ...pagination import Page, decode, encode, keyset_page
from ...shop_embed import service as shop
from ..models import Review
from .common import SORTS


def _counting():
    return and_(Review.hidden_at.is_(None), Review.deleted_at.is_(None))


SORT_KEYS = {
    "newest": (),
    "helpful": (Review.helpful_count,),
    "rating": (Review.rating,),
}


def list_reviews(
    product_id: int, *, sort: str = "helpful", cursor: str | None = None, limit: int = 20
) -> Page:
    """The reviews that count, keyset-paginated: ``helpful`` (most helpful first),
    ``newest``, or ``rating`` (highest first); ties newest first. 422 for another sort."""
    if sort not in SORTS:
        raise field_error("sort", f"Sort by one of {', '.join(SORTS)}.")
    keys = SORT_KEYS[sort]
    after = decode(cursor, len(keys) + 1)
    query = (
        select(Review)
        .options(joinedload(Review.author), selectinload(Review.photos))
        .where(Review.product_id == product_id, _counting())
        .order_by(*(k.desc() for k in keys), Review.id.desc())
        .limit(limit + 1)
    )
    if after is not None:
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in after):
            raise field_error("cursor", "That cursor is not valid.")
        if keys:
            query = query.where(
                or_(keys[0] < after[0], and_(keys[0] == after[0], Review.id < after[1]))
            )
        else:
            query = query.where(Review.id < after[0])
    rows = list(db.session.scalars(query).unique())
    return keyset_page(
        rows, limit, lambda last: encode([*(getattr(last, k.key) for k in keys), last.id])
    )


def computed_ratings(product_id: int) -> dict:
    """The aggregates recomputed from the reviews themselves (the truth the columns mirror)."""
    rows = db.session.execute(
        select(Review.rating, func.count())
        .where(Review.product_id == product_id, _counting())
        .group_by(Review.rating)
    ).all()
    histogram = {rating: count for rating, count in rows}
    count = sum(histogram.values())
    total = sum(rating * n for rating, n in histogram.items())
    return {"count": count, "sum": total, "histogram": histogram}


def recount_ratings(product_id: int) -> bool:
    """Write the recomputed aggregates on the product; True when they had drifted."""
    truth = computed_ratings(product_id)
    product = shop.find_product(product_id)
    stored = {n: getattr(product, f"rating_{n}") for n in range(1, 6)}
    drifted = (
        product.rating_count != truth["count"]
        or product.rating_sum != truth["sum"]
        or any(stored[n] != truth["histogram"].get(n, 0) for n in range(1, 6))
    )
    if drifted:
        shop.set_rating(
            product_id, count=truth["count"], total=truth["sum"], histogram=truth["histogram"]
        )
    return drifted


def threads_embedding(product_id: int, *, viewer=None, limit: int = 10) -> list:
    """Threads (latest activity first) with a visible post embedding ``[[product:ID]]``,
    read through the board's service."""
    return board.threads_embedding(f"product:{int(product_id)}", limit=limit)


REVIEW_TEXT_MAX = 20_000  # characters of review text a product's search document carries


def review_texts(product_ids) -> dict[int, str]:
    """Product id -> the plain text of its counted reviews (title and body, most
    helpful first, at most ``REVIEW_TEXT_MAX`` characters): what search adds to a
    product's document."""
    ids = {int(i) for i in product_ids}
    if not ids:
        return {}
    rows = db.session.execute(
        select(Review.product_id, Review.title, Review.body_html)
        .where(_counting(), Review.product_id.in_(ids))
        .order_by(Review.product_id, Review.helpful_count.desc(), Review.id)
    )
    texts: dict[int, str] = {}
    for product_id, title, body_html in rows:
        so_far = texts.get(product_id, "")
        if len(so_far) < REVIEW_TEXT_MAX:
            texts[product_id] = f"{so_far} {title}. {plain_text(body_html)}".strip()[
                :REVIEW_TEXT_MAX
            ]
    return texts


def helpful_reviewers(
    min_reviews: int, min_helpful: int, *, author_id: int | None = None
) -> list[int]:
    """Members with at least ``min_reviews`` reviews that count (not hidden, not
    deleted) each found helpful by at least ``min_helpful`` members (trust's "trusted
    reviewer" badge); only ``author_id`` when given. One grouped query."""
    query = (
        select(Review.author_id)
        .where(_counting(), Review.helpful_count >= min_helpful)
        .group_by(Review.author_id)
        .having(func.count(Review.id) >= min_reviews)
    )
    if author_id is not None:
        query = query.where(Review.author_id == author_id)
    return list(db.session.scalars(query))
