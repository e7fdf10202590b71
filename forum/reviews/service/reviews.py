"""Reviews: who may write one, writing, editing, hiding, deleting, votes, replies, flags.

Check, then do: every refusal is raised before anything is written. The product's
aggregates move in the same transaction through ``shop.apply_rating``, and every
change to whether a review counts is one conditional UPDATE on the review row whose
RETURNING says what to add or take away, so two moderators, an edit and a delete
racing on one review still move the aggregates exactly once each.
"""

from flask import current_app, url_for
from markupsafe import Markup
from sqlalchemy import select, update

from ... import markup, ratelimit, signals
from ...clock import now
from ...database import add_unique, newest_first
from ...errors import Conflict, Forbidden, NotFound, field_error
from ...extensions import db
from ...moderation import service as moderation
from ...moderation.schemas import Target, target_answer
from ...notifications import service as notifications
from ...permissions import check_not_suspended
from ...shop_embed import service as shop
from ..models import MAX_PHOTOS, Review, ReviewPhoto, ReviewRevision, ReviewVote
from ..photos import PHOTOS as photo_store
from . import rewards
from .common import (
    BODY_MAX,
    REPLY_MAX,
    address_key,
    check_rating,
    check_text,
    check_title,
    raise_if,
)

HIDDEN_REASON_MAX = 200  # reviews.hidden_reason's width; the audit log keeps it whole


def is_moderator(user) -> bool:
    return bool(user and getattr(user, "is_authenticated", False) and user.is_moderator)


def _render(body: str, field: str = "body") -> str:
    rendered = markup.render(body)
    if rendered.too_deep:
        raise field_error(field, "Quotes and lists nest too deeply.")
    return rendered.html


# --- who may review --------------------------------------------------------------------


def _reviewed_item_ids(item_ids) -> set[int]:
    ids = list(item_ids)
    if not ids:
        return set()
    return set(
        db.session.scalars(select(Review.order_item_id).where(Review.order_item_id.in_(ids)))
    )


def check_can_review(user, product, order_id: int | None = None):
    """The (order, item) ``user`` may review the shop's ``product`` for; raises otherwise.

    Refusals (nothing written): Forbidden ``merchant_cannot_review`` (the shop's own
    account), ``not_a_buyer`` (no order of it), ``order_refunded``,
    ``order_not_completed``, ``shared_address`` (another account at the buyer's
    address reviewed it, or the address is the merchant's own); Conflict
    ``already_reviewed`` when every such item has its review.
    """
    if not (user and getattr(user, "is_authenticated", False)):
        raise Forbidden("Log in to review.", code="not_a_buyer")
    if shop.owns_product(user, product) or product.merchant.user_id == user.id:
        raise Forbidden("A shop cannot review its own products.", code="merchant_cannot_review")
    rows = shop.bought_items(user.id, product_id=product.id, order_id=order_id)
    if not rows:
        raise Forbidden("Only buyers of this product can review it.", code="not_a_buyer")
    completed = [(item, order) for item, order in rows if order.status == "completed"]
    if not completed:  # order_not_completed, or order_refunded when every one was
        check_completed(next((o for _i, o in rows if o.status != "refunded"), rows[0][1]))
    done = _reviewed_item_ids(item.id for item, _order in completed)
    open_items = [(item, order) for item, order in completed if item.id not in done]
    if not open_items:
        raise Conflict("You have already reviewed this purchase.", code="already_reviewed")
    item, order = open_items[0]
    _check_address(user, product, order)
    return order, item


def purchase_columns(order, item) -> dict[str, int]:
    """The columns that tie a review or an experience report to the purchase it is
    about (an order is of one merchant, so the order names the shop)."""
    return {
        "order_id": order.id,
        "order_item_id": item.id,
        "product_id": item.product_id,
        "merchant_id": order.merchant_id,
    }


def check_not_the_shop(user, order) -> None:
    """Refuse the shop's own account, and goods shipped to an address the shop ships its
    own orders to (Forbidden ``merchant_cannot_review`` / ``shared_address``): the
    rules reviews and experience reports share."""
    if order.merchant.user_id == user.id:
        raise Forbidden("A shop cannot review its own products.", code="merchant_cannot_review")
    key = address_key(order.shipping_address)
    if key is None:
        return
    merchant_addresses = shop.shipping_addresses(order.merchant.user_id, limit=200)
    if any(address_key(a) == key for a in merchant_addresses):
        raise Forbidden(
            "Goods shipped to the shop's own address cannot be reviewed.", code="shared_address"
        )


def check_completed(order) -> None:
    """Forbidden ``order_refunded`` / ``order_not_completed`` unless ``order`` is completed."""
    if order.status == "refunded":
        raise Forbidden("This order was refunded.", code="order_refunded")
    if order.status != "completed":
        raise Forbidden(
            "You can review it once the order is completed.", code="order_not_completed"
        )


def _check_address(user, product, order) -> None:
    check_not_the_shop(user, order)
    key = address_key(order.shipping_address)
    if key is None:
        return
    other = db.session.scalar(
        select(Review.id).where(
            Review.product_id == product.id,
            Review.address_key == key,
            Review.author_id != user.id,
        )
    )
    if other is not None:
        raise Forbidden(
            "Someone at this shipping address has already reviewed this product.",
            code="shared_address",
        )


def reviewable_items(user, product_id: int | None = None) -> list[tuple]:
    """(item, order): completed order items of ``user`` with no review yet (newest
    order first)."""
    if not (user and getattr(user, "is_authenticated", False)):
        return []
    rows = shop.completed_items(user.id, product_id=product_id, limit=100)
    done = _reviewed_item_ids(item.id for item, _order in rows)
    return [(item, order) for item, order in rows if item.id not in done]


# --- writing ---------------------------------------------------------------------------


def create_review(
    user, product_id: int, *, order_id=None, rating, title, body, photos=()
) -> Review:
    """A verified-purchase review of ``product_id`` by its buyer, counted at once and
    rewarded once per order item (the same reward for every rating).

    Raises NotFound (no such product), ValidationFailed (rating outside 1-5, title,
    body, more than 6 photos, a photo that is not an image), the refusals of
    ``check_can_review``, Conflict ``already_reviewed`` when another request reviewed
    the same order item first (the unique order item decides). Nothing is written then.
    """
    product = shop.get_product(product_id, viewer=user)
    errors: dict = {}
    rating = check_rating(rating, errors)
    title = check_title(title, errors)
    body = check_text(body, "body", BODY_MAX, errors)
    photos = list(photos or ())
    if len(photos) > MAX_PHOTOS:
        errors["photos"] = [f"Add at most {MAX_PHOTOS} photos."]
    if order_id is not None and (isinstance(order_id, bool) or not isinstance(order_id, int)):
        errors["order_id"] = ["Give the order's id."]
    raise_if(errors)
    check_not_suspended(user)
    order, item = check_can_review(user, product, order_id)
    html = _render(body)
    ratelimit.consume(
        current_app.config["REVIEW_LIMIT"],
        "review",
        user.id,
        message="You are reviewing too fast; wait a while.",
    )
    names = [photo_store.store(data) for data in photos]
    review = Review(
        **purchase_columns(order, item),
        author_id=user.id,
        rating=rating,
        title=title,
        body=body,
        body_html=html,
        purchased_at=order.paid_at or order.created_at,
        address_key=address_key(order.shipping_address),
        helpful_count=0,
        created_at=now(),
        photos=[ReviewPhoto(name=name, position=n) for n, name in enumerate(names)],
    )
    if not add_unique(review):
        for name in names:
            photo_store.remove(name)
        raise Conflict("You have already reviewed this purchase.", code="already_reviewed")
    shop.apply_rating(product.id, add=rating)
    signals.review_changed.send(review, change="created")
    rewards.reward("review", review)
    return review


def get_review(review_id: int, viewer=None) -> Review:
    """A review the viewer may see: counted ones for all, hidden ones for its author and
    moderators; deleted ones for nobody (404)."""
    review = db.session.get(Review, review_id) if isinstance(review_id, int) else None
    if review is None or review.is_deleted:
        raise NotFound("No such review.")
    if review.is_hidden and not (
        is_moderator(viewer) or getattr(viewer, "id", None) == review.author_id
    ):
        raise NotFound("No such review.")
    return review


def edit_review(actor, review: Review, *, rating=None, title=None, body=None) -> Review:
    """The author changes rating, title and/or body; the old version is kept as a
    revision, and the aggregates move from the old rating to the new one while it counts.

    Raises Forbidden (not the author), ValidationFailed, Conflict ``edit_conflict``
    when the review changed meanwhile (nothing written).
    """
    if actor.id != review.author_id:
        raise Forbidden("Only its author can edit a review.")
    errors: dict = {}
    new_rating = review.rating if rating is None else check_rating(rating, errors)
    new_title = review.title if title is None else check_title(title, errors)
    new_body = review.body if body is None else check_text(body, "body", BODY_MAX, errors)
    raise_if(errors)
    html = _render(new_body) if body is not None else review.body_html
    old_rating = review.rating
    db.session.add(
        ReviewRevision(
            review_id=review.id,
            editor_id=actor.id,
            rating=review.rating,
            title=review.title,
            body=review.body,
            created_at=now(),
        )
    )
    row = db.session.execute(
        update(Review)
        .where(Review.id == review.id, Review.rating == old_rating, Review.deleted_at.is_(None))
        .values(rating=new_rating, title=new_title, body=new_body, body_html=html, edited_at=now())
        .returning(Review.hidden_at)
        .execution_options(synchronize_session=False)
    ).first()
    if row is None:
        raise Conflict("This review changed meanwhile; reload and try again.", code="edit_conflict")
    if row.hidden_at is None and new_rating != old_rating:
        shop.apply_rating(review.product_id, add=new_rating, remove=old_rating)
    db.session.refresh(review)
    signals.review_changed.send(review, change="edited")
    return review


def revisions(review: Review) -> list[ReviewRevision]:
    return newest_first(ReviewRevision.review_id, review.id)


def delete_review(actor, review: Review, reason: str = "") -> None:
    """The author (or a moderator, with a reason) deletes a review: it stops counting
    and its reward is taken back; the order item stays used. Raises Forbidden for
    anyone else, ValidationFailed for a moderator without a reason."""
    by_moderator = actor.id != review.author_id
    if by_moderator and not is_moderator(actor):
        raise Forbidden("Only its author or a moderator can delete a review.")
    if by_moderator:
        reason = moderation.check_reason(reason)
    row = db.session.execute(
        update(Review)
        .where(Review.id == review.id, Review.deleted_at.is_(None))
        .values(deleted_at=now())
        .returning(Review.rating, Review.hidden_at)
        .execution_options(synchronize_session=False)
    ).first()
    if row is None:
        return
    if row.hidden_at is None:
        shop.apply_rating(review.product_id, remove=row.rating)
    rewards.reverse("review", review.order_item_id, "review_deleted")
    if by_moderator:
        moderation.record_on(
            actor, "review.delete", "review", review, reason=reason, product_id=review.product_id
        )
    db.session.refresh(review)
    signals.review_changed.send(review, change="deleted")


def set_hidden(actor, review: Review, hidden: bool, reason: str = "") -> None:
    """A moderator hides a review (removal for abuse: it stops counting and loses its
    reward, which is not paid again on restore) or restores it. Audited; the open
    flags on it are resolved."""
    moderation.check_moderator(actor)
    reason = moderation.check_reason(reason)
    if hidden:
        row = db.session.execute(
            update(Review)
            .where(Review.id == review.id, Review.hidden_at.is_(None), Review.deleted_at.is_(None))
            .values(
                hidden_at=now(), hidden_by_id=actor.id, hidden_reason=reason[:HIDDEN_REASON_MAX]
            )
            .returning(Review.rating)
            .execution_options(synchronize_session=False)
        ).first()
        if row is not None:
            shop.apply_rating(review.product_id, remove=row.rating)
        else:
            # Hidden already by the flag score (no moderator): it has stopped counting;
            # the moderator's word now makes it a removal and takes its reward back.
            row = db.session.execute(
                update(Review)
                .where(
                    Review.id == review.id,
                    Review.hidden_at.is_not(None),
                    Review.hidden_by_id.is_(None),
                    Review.deleted_at.is_(None),
                )
                .values(hidden_by_id=actor.id, hidden_reason=reason[:HIDDEN_REASON_MAX])
                .returning(Review.rating)
                .execution_options(synchronize_session=False)
            ).first()
        if row is not None:
            rewards.reverse("review", review.order_item_id, "removed_for_abuse")
    else:
        row = db.session.execute(
            update(Review)
            .where(
                Review.id == review.id, Review.hidden_at.is_not(None), Review.deleted_at.is_(None)
            )
            .values(hidden_at=None, hidden_by_id=None, hidden_reason=None)
            .returning(Review.rating)
            .execution_options(synchronize_session=False)
        ).first()
        if row is not None:
            shop.apply_rating(review.product_id, add=row.rating)
    if row is not None:
        moderation.record_on(
            actor,
            "review.hide" if hidden else "review.restore",
            "review",
            review,
            product_id=review.product_id,
            reason=reason,
        )
        moderation.resolve_flags(actor, "review", review.id)
    db.session.refresh(review)
    if row is not None:
        signals.review_changed.send(review, change="hidden" if hidden else "restored")


# --- helpful votes, replies, flags -----------------------------------------------------


def vote_helpful(user, review: Review) -> int:
    """Count ``user``'s "helpful" once; returns the new count. Raises Forbidden for the
    author's own review, Conflict ``already_voted`` for a second vote."""
    if user.id == review.author_id:
        raise Forbidden("You cannot vote on your own review.", code="own_review")
    if not add_unique(ReviewVote(review_id=review.id, user_id=user.id, created_at=now())):
        raise Conflict("You already found this review helpful.", code="already_voted")
    count = db.session.execute(
        update(Review)
        .where(Review.id == review.id)
        .values(helpful_count=Review.helpful_count + 1)
        .returning(Review.helpful_count)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    db.session.refresh(review)
    return count


def voted_ids(user, review_ids) -> set[int]:
    ids = list(review_ids)
    if not ids or not (user and getattr(user, "is_authenticated", False)):
        return set()
    return set(
        db.session.scalars(
            select(ReviewVote.review_id).where(
                ReviewVote.user_id == user.id, ReviewVote.review_id.in_(ids)
            )
        )
    )


def can_reply(user, review: Review) -> bool:
    merchant = shop.merchant_of(user) if shop.is_merchant(user) else None
    return merchant is not None and merchant.id == review.merchant_id


def reply(actor, review: Review, body) -> Review:
    """The product's merchant answers a review publicly, once.

    Raises Forbidden (anyone else), ValidationFailed (empty or too long), Conflict
    ``already_replied`` (one conditional UPDATE decides between two replies).
    """
    if not can_reply(actor, review):
        raise Forbidden("Only the shop that sold it can reply to a review.")
    errors: dict = {}
    body = check_text(body, "body", REPLY_MAX, errors)
    raise_if(errors)
    html = _render(body)
    moved = db.session.execute(
        update(Review)
        .where(Review.id == review.id, Review.replied_at.is_(None))
        .values(reply_body=body, reply_html=html, reply_by_id=actor.id, replied_at=now())
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        raise Conflict("The shop has already replied to this review.", code="already_replied")
    db.session.refresh(review)
    notifications.notify(
        review.author_id,
        "review_reply",
        f"The shop replied to your review “{review.title}”.",
        url_for("shop_embed.product", product_id=review.product_id, _anchor=f"review-{review.id}"),
        actor_id=actor.id,
    )
    return review


def flag_review(actor, review: Review, reason: str, note: str = "") -> None:
    """Flag a review for the moderators (same flags as posts). Raises Forbidden for the
    author, ValidationFailed, Conflict ``already_flagged``."""
    if actor.id == review.author_id:
        raise Forbidden("You cannot flag your own review.", code="own_review")
    moderation.flag(actor, "review", review.id, reason, note or "", author_id=review.author_id)


def flagged_reviews(actor, limit: int = 100) -> list[tuple[Review, int]]:
    """Reviews with open flags, most flagged first (moderators)."""
    moderation.check_moderator(actor)
    counts = moderation.open_flag_counts("review")
    if not counts:
        return []
    rows = db.session.scalars(
        select(Review).where(Review.id.in_(list(counts)), Review.deleted_at.is_(None))
    ).all()
    return sorted(((r, counts[r.id]) for r in rows), key=lambda pair: (-pair[1], -pair[0].id))[
        :limit
    ]


# --- moderation's questions about reviews (flags, the review queue) ------------------


@target_answer(get_review)
def describe_review(review: Review) -> Target:
    """The review as moderation's viewer may see it (None: missing, deleted or hidden
    from them)."""
    return Target(
        kind="review",
        id=review.id,
        author_id=review.author_id,
        url=url_for(
            "shop_embed.product", product_id=review.product_id, _anchor=f"review-{review.id}"
        ),
        context=f"a review: “{review.title}”",
        body_html=Markup(review.body_html),  # noqa: S704 (sanitised when stored)
        hidden=review.is_hidden,
    )


def hide_review(kind: str, *, target_id: int, hidden: bool, actor=None, reason: str = "") -> bool:
    """A moderator's queue decision hides or restores a review through ``set_hidden`` (its
    rating and reward rules). The flag score (``actor`` None) hides it until a moderator
    decides: it stops counting in its product's rating, its reward stays (taken back
    only if a moderator agrees); moderation writes that audit entry."""
    review = db.session.get(Review, target_id)
    if review is None:
        return False
    if actor is not None:
        set_hidden(actor, review, hidden, reason)
        return True
    if not hidden:
        return False
    row = db.session.execute(
        update(Review)
        .where(Review.id == review.id, Review.hidden_at.is_(None), Review.deleted_at.is_(None))
        .values(hidden_at=now(), hidden_by_id=None, hidden_reason=reason[:HIDDEN_REASON_MAX])
        .returning(Review.rating)
        .execution_options(synchronize_session=False)
    ).first()
    db.session.refresh(review)
    if row is None:
        return False
    shop.apply_rating(review.product_id, remove=row.rating)
    signals.review_changed.send(review, change="hidden")
    return True
