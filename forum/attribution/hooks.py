"""What other features tell attribution: new accounts and posts, orders, team joins, sign-ups.

Receivers of ``forum.signals``, connected in ``attribution.init_app`` (the shop,
promotions, events, board and accounts send and know nothing of attribution).
Every receiver runs inside the sender's transaction, in a savepoint: a failure
here is logged and rolled back alone, and never refuses a payment, a sign-up, a
post or a team join. Who pays for an offer is ``service.payer`` (see ``offers``).
"""

import logging

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from ..errors import ServiceError
from ..extensions import db
from ..promotions import service as promotions
from ..shop_embed import service as shop
from . import service
from .models import Credit

log = logging.getLogger(__name__)

# The shop's "held" (a group-buy order while its team forms) is not a sale yet.
SHOP_STATUSES = {"held": "pending"}


def _quietly(what: str, action) -> None:
    try:
        with db.session.begin_nested():
            action()
    except (SQLAlchemyError, ServiceError):
        log.exception("attribution: could not record %s", what)


# --- a new account (sign-up candidates) ---------------------------------------------------


def registered(user, **_) -> None:
    """``signals.user_registered``: claim the browser's clicks, note a sign-up candidate."""
    service.on_registered(user)


# --- shop orders (CPS) -------------------------------------------------------------------


def order_facts(order) -> service.OrderFacts:
    return service.OrderFacts(
        order_id=order.id,
        buyer_id=order.buyer_id,
        merchant_id=order.merchant.user_id,
        total_cents=order.total_cents,
        currency=order.currency,
        status=SHOP_STATUSES.get(order.status, order.status),
        paid_at=order.paid_at,
        completed_at=order.completed_at,
        refunded_at=order.refunded_at or order.cancelled_at,
        from_order=True,
    )


def follow_order(order) -> None:
    """Bring the order's conversion up to date and stamp the order with the post that sold it.

    An order that ends without ever having been a sale (a prepaid group-buy order
    refunded because its team failed) is not one to credit and then take back.
    """
    facts = order_facts(order)
    if facts.status not in service.PAID_STATUSES and service.order_conversion(order.id) is None:
        return
    conversion = service.record_order(facts)
    if conversion is None or conversion.direct or order.source_kind is not None:
        return  # a direct sale (no touch was credited) has no source to name
    # Several sources (linear credit): the order names the latest one the buyer followed.
    credit = db.session.scalar(
        select(Credit)
        .where(Credit.conversion_id == conversion.id)
        .order_by(Credit.click_id.desc())
        .limit(1)
    )
    if credit is not None:
        shop.set_source(order, credit.source_kind, credit.source_id, credit.author_id)


def order_changed(order, *, event, **_) -> None:
    """``signals.order_changed``: every event an order records."""
    # Nothing is owed before payment, and only a change of status (not our own
    # set_source, nor a new address) or of price changes what is owed.
    if order.paid_at is None:
        return
    if event.type == "price_lowered":  # a ladder's step reached, a price cut: CPS follows
        _quietly(
            f"the new price of order {order.id}",
            lambda: service.reprice_order(order.id, order.total_cents),
        )
        return
    if event.to_status is None:
        return

    def follow() -> None:
        follow_order(order)
        if event.to_status in service.PAID_STATUSES:  # a paying buyer is a person
            service.on_person_activity(order.buyer_id, "order")

    # One savepoint for both (each costs two statements on every payment).
    _quietly(f"order {order.id}", follow)


# --- a new account's first post (sign-up CPA) -----------------------------------------------


def post_created(post, **_) -> None:
    """``signals.post_created``: writing a post is what a person does."""
    _quietly(f"the post {post.id}", lambda: service.on_person_activity(post.author_id, "post"))


def email_verified(user, **_) -> None:
    """``signals.email_verified``: following the verification link is a person's act."""
    _quietly(f"the email of {user.id}", lambda: service.on_email_verified(user.id))


# --- group-buy teams (CPA) --------------------------------------------------------------


def _team_key(team_id: int, user_id: int) -> str:
    return f"team:{team_id}:user:{user_id}"


def team_joined(team, *, member, **_) -> None:
    """``signals.team_joined``: a join is a CPA action for the merchant who runs the group-buy."""
    merchant_id = service.payer("groupbuy", team.group_buy)
    if merchant_id is None or member.user_id == merchant_id:
        return
    _quietly(
        f"the team join {team.id}/{member.user_id}",
        lambda: service.record_action(
            "team_join",
            user_id=member.user_id,
            merchant_id=merchant_id,
            key=_team_key(team.id, member.user_id),
        ),
    )


def team_settled(team, *, status: str, **_) -> None:
    """``signals.team_settled``: a team that failed earned nothing; its joins are taken back."""
    if status != "failed":
        return
    members = promotions.team_member_ids(team)

    def reverse():
        for user_id in members:
            service.reverse_action("team_join", _team_key(team.id, user_id))

    _quietly(f"the failed team {team.id}", reverse)


# --- event sign-ups (CPA) ----------------------------------------------------------------


def _signup_key(signup) -> str:
    # A member who cancels and signs up again reuses the row with a new created_at:
    # a new action, since the first one was taken back.
    return f"signup:{signup.id}:{signup.created_at:%Y%m%d%H%M%S%f}"


def signup_made(signup, *, event, user, **_) -> None:
    """``signals.signup_made``: a CPA action for the merchant who accepted the sponsorship."""
    sponsor_id = service.payer("event", event)
    if sponsor_id is None or sponsor_id == user.id:
        return
    _quietly(
        f"the sign-up {signup.id}",
        lambda: service.record_action(
            "event_signup", user_id=user.id, merchant_id=sponsor_id, key=_signup_key(signup)
        ),
    )


def signup_released(signup, **_) -> None:
    """``signals.signup_released``: a cancelled (or removed) sign-up's unpaid CPA is reversed.

    Whoever sponsors the event now, the action recorded for the sign-up (if any) goes.
    """
    _quietly(
        f"the cancelled sign-up {signup.id}",
        lambda: service.reverse_action("event_signup", _signup_key(signup)),
    )
