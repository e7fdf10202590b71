"""Opens and clicks of campaign messages (a delivery's own marks; the order credit is
attribution's, through the ``/go/`` link the click leads to)."""

from sqlalchemy import select

from ...clock import now
from ...database import update_where
from ...extensions import db
from ..models import Campaign, ContactSettings, Delivery


def record_click(delivery_id: int) -> None:
    update_where(
        Delivery,
        Delivery.id == delivery_id,
        Delivery.clicked_at.is_(None),
        Delivery.status == "sent",
        clicked_at=now(),
    )


def link_coupon(delivery_id: int) -> str:
    """The coupon code of the campaign whose sent letter held the link ("" without one):
    the checkout starts with it filled in (a prefill; the coupon's rules decide)."""
    code = db.session.scalar(
        select(Campaign.coupon_code)
        .join(Delivery, Delivery.campaign_id == Campaign.id)
        .where(Delivery.id == delivery_id, Delivery.status == "sent")
    )
    return code or ""


def record_open(delivery_id: int) -> bool:
    """Mark opened, only when the member allows open tracking (never proof of anything:
    mail clients preload images, and many block them)."""
    delivery = db.session.get(Delivery, delivery_id)
    if delivery is None or delivery.opened_at is not None or delivery.status != "sent":
        return False
    contact = db.session.get(ContactSettings, delivery.user_id)
    if contact is None or not contact.track_opens:
        return False
    delivery.opened_at = now()
    return True
