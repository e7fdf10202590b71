"""Reading reviews: a product's list in three orders, the recount that proves the
aggregates, reviews in search, threads that embed a product."""

import html
import re

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


_WORD_RE = re.compile(r"\w+", re.UNICODE)


def search_products(q: str, *, limit: int = 5) -> list[tuple]:
    """(product, review): products on sale whose counted reviews contain every word of
    ``q`` (title or body), each with its most helpful matching review, best rated first.
    On sale is the shop's rule, taken as its ``buyable_product_ids`` expression."""
    words = _WORD_RE.findall(q or "")[:6]
    if not words:
        return []
    patterns = ["%" + w.replace("\\", "").replace("_", "\\_") + "%" for w in words]
    conditions = [
        or_(Review.title.ilike(p, escape="\\"), Review.body.ilike(p, escape="\\")) for p in patterns
    ]
    rows = db.session.scalars(
        select(Review)
        .where(
            _counting(),
            Review.product_id.in_(shop.buyable_product_ids()),
            *conditions,
        )
        .order_by(Review.helpful_count.desc(), Review.id.desc())
        .limit(200)
    ).all()
    products = shop.products_with_ids({review.product_id for review in rows})
    best: dict[int, tuple] = {}
    for review in rows:
        best.setdefault(review.product_id, (products[review.product_id], review))
    ranked = sorted(
        best.values(), key=lambda pair: (-(pair[0].rating_avg or 0), -pair[0].rating_count)
    )
    return ranked[:limit]


def snippet(text: str, q: str, width: int = 160) -> str:
    """Plain text around the first word of ``q`` found in ``text`` (no markup)."""
    text = " ".join((text or "").split())
    words = _WORD_RE.findall(q or "")
    at = -1
    for word in words:
        at = text.casefold().find(word.casefold())
        if at >= 0:
            break
    start = max(0, at - width // 3) if at >= 0 else 0
    piece = text[start : start + width]
    return ("…" if start else "") + piece + ("…" if start + width < len(text) else "")


def marked_snippet(text: str, q: str, width: int = 160) -> str:
    """``snippet`` escaped as HTML, each word of ``q`` wrapped in ``<mark>`` (the search
    API's snippet format)."""
    piece = html.escape(snippet(text, q, width), quote=False)
    words = sorted({w for w in _WORD_RE.findall(q or "") if w}, key=len, reverse=True)[:6]
    if not words:
        return piece
    pattern = re.compile("|".join(re.escape(html.escape(w, quote=False)) for w in words), re.I)
    return pattern.sub(lambda m: f"<mark>{m.group(0)}</mark>", piece)


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
