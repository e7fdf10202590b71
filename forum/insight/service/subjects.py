"""The promotion under evaluation, as its owners describe it: who was exposed (a
widget's viewers, a campaign's recipients, a coupon's campaigns' recipients or its
post's readers), the random holdout if there is one, who took part, and what it cost
(see ``evaluation``'s docstring for the rules)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import CompoundSelect, Select, func, select, union_all

from ...attribution import service as attribution
from ...board import service as board
from ...campaigns import service as campaigns
from ...errors import NotFound, ServiceError
from ...members import service as members
from ...promotions import service as promotions
from ...shop_embed import service as shop
from ..models import Exposure
from .exposures import WIDGET_KINDS

KINDS = (*WIDGET_KINDS, "coupon", "campaign")


class BadRequest(ServiceError, status=400, code="bad_request", message="The request is not valid."):
    """A promotion kind or a period that cannot be evaluated."""


# --- the promotion under evaluation ----------------------------------------------------


@dataclass
class Subject:
    kind: str
    id: int
    label: str
    merchant_user_id: int | None
    starts_at: datetime | None
    exposed: Select  # user_id, at
    holdout: Select | None  # user_id
    participants: Select | CompoundSelect  # user_id, at
    discount_cents: int
    commission_cents: int
    cpa_cents: int
    by_source: bool
    orders: Select | CompoundSelect  # order_id: the orders whose perks and points it cost


def _widget_exposed(kind: str, ident: int) -> Select:
    return (
        select(Exposure.user_id.label("user_id"), func.min(Exposure.first_seen_at).label("at"))
        .where(Exposure.embed_kind == kind, Exposure.embed_id == ident)
        .group_by(Exposure.user_id)
    )


def _clicks(**where) -> Select:
    clicks = attribution.offer_clicks(**where).subquery()
    return select(clicks.c.user_id, clicks.c.at)


def _first_at(acts: Select) -> Select:
    inner = acts.subquery()
    return select(inner.c.user_id, func.min(inner.c.at).label("at")).group_by(inner.c.user_id)


def _audience(audience: Select, *, holdout: bool) -> Select:
    planned = audience.subquery()
    return select(planned.c.user_id, planned.c.at).where(planned.c.holdout.is_(holdout))


def _described(
    kind: str,
    ident: int,
    facts: dict,
    *,
    owner_key: str = "merchant_user_id",
    holdout: Select | None = None,
    commission_cents: int = 0,
    cpa_cents: int = 0,
    by_source: bool = False,
    **measures,
) -> Subject:
    """A Subject headed by its owner's facts (label, owner, start), with ``measures``;
    no holdout, commission, CPA or per-source credit unless given."""
    return Subject(
        kind=kind,
        id=ident,
        label=facts["label"],
        merchant_user_id=facts[owner_key],
        starts_at=facts["starts_at"],
        holdout=holdout,
        commission_cents=commission_cents,
        cpa_cents=cpa_cents,
        by_source=by_source,
        **measures,
    )


def subject(kind: str, ident: int) -> Subject | None:
    """The promotion ``kind``/``ident`` with its exposure, control, participants and
    costs as the owners hand them; None when there is no such promotion."""
    if kind in WIDGET_KINDS:
        facts = (
            shop.product_facts(ident)
            if kind == "product"
            else promotions.promotion_facts(kind, ident)
        )
        if facts is None:
            return None
        participants: Select | CompoundSelect = _clicks(embed=(kind, ident))
        if kind != "product":
            participants = union_all(participants, facts["participants"])
        costs = attribution.offer_costs(embed=(kind, ident))
        credited = attribution.credited_order_ids(embed=(kind, ident))
        return _described(
            kind,
            ident,
            facts,
            exposed=_widget_exposed(kind, ident),
            participants=participants,
            discount_cents=int(facts.get("discount_cents", 0)),
            commission_cents=costs["commission_cents"],
            cpa_cents=costs["cpa_cents"],
            by_source=True,
            orders=union_all(credited, facts["orders"]) if "orders" in facts else credited,
        )
    if kind == "campaign":
        facts = campaigns.audience_facts(ident)
        if facts is None:
            return None
        exposed = _audience(facts["audience"], holdout=False)
        costs = attribution.offer_costs(source=("campaign", ident))
        recipients = select(exposed.subquery().c.user_id)
        discount = (
            members.coupon_discount_by(facts["coupon_code"], recipients)
            if facts["coupon_code"]
            else 0
        )
        orders: Select | CompoundSelect = attribution.credited_order_ids(source=("campaign", ident))
        if facts["coupon_code"]:
            orders = union_all(orders, members.coupon_orders_by(facts["coupon_code"], recipients))
        return _described(
            kind,
            ident,
            facts,
            owner_key="owner_id",
            exposed=exposed,
            holdout=select(_audience(facts["audience"], holdout=True).subquery().c.user_id)
            if facts["holdout_bp"]
            else None,
            participants=_clicks(source=("campaign", ident)),
            discount_cents=discount,
            commission_cents=costs["commission_cents"],
            cpa_cents=costs["cpa_cents"],
            orders=orders,
        )
    if kind == "coupon":
        facts = members.coupon_facts(ident)
        if facts is None:
            return None
        carriers = campaigns.campaigns_with_code(facts["code"])
        if carriers:
            audience = campaigns.audience_sql(carriers)
            exposed = _audience(audience, holdout=False)
            holdout = select(_audience(audience, holdout=True).subquery().c.user_id)
        else:
            # No campaign carries it: the members who read a post giving the code, against
            # matched members (coupons are not issued to members one by one).
            exposed, holdout = _first_at(board.readers_of_posts_with(facts["code"])), None
        return _described(
            kind,
            ident,
            facts,
            exposed=exposed,
            holdout=holdout,
            participants=facts["participants"],
            discount_cents=facts["discount_cents"],
            orders=facts["orders"],
        )
    return None


def check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise BadRequest(
            "Unknown promotion kind.", fields={"kind": [f"Use one of {', '.join(KINDS)}."]}
        )


def owned_subject(kind: str, ident: int, merchant_user_id: int | None) -> Subject:
    """The promotion, if ``merchant_user_id`` owns it (None: an admin, any promotion);
    another merchant's promotion is not found, so its existence is not disclosed."""
    check_kind(kind)
    found = subject(kind, ident)
    if found is None or (
        merchant_user_id is not None and found.merchant_user_id != merchant_user_id
    ):
        raise NotFound("No such promotion.")
    return found
