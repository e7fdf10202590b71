"""Demo campaigns: members with confirmed addresses, two segments and a sent campaign
(its mail is in the development outbox of `make run`), plus a draft SMS."""

from ..clock import now
from . import service


def build(ctx) -> None:
    for user in ctx.members:
        service.contact(user.id).email_verified_at = now()
    buyers = service.create_segment(
        ctx.admin,
        "Bought once, not yet twice",
        {"all": [{"field": "completed_orders", "op": "eq", "value": 1}]},
    )
    service.create_segment(
        ctx.admin,
        "Chatty but never bought",
        {
            "all": [
                {"field": "chat_messages", "op": "gte", "value": 1, "days": 30},
                {"not": {"field": "days_since_last_order", "op": "gte", "value": 0}},
            ]
        },
    )
    confirmed = service.create_segment(
        ctx.admin,
        "Confirmed addresses, email allowed",
        {
            "all": [
                {"field": "email_verified", "op": "eq", "value": True},
                {"field": "marketing_email", "op": "eq", "value": True},
            ]
        },
    )
    welcome = service.create_campaign(
        ctx.admin,
        name="Come back for a second pair",
        channel="email",
        segment_id=confirmed.id,
        subject="{{name}}, the community picked these for you",
        body="Hi {{name}}!\n\nMembers are talking about these this week. Use **{{coupon}}** "
        "at checkout.\n\nSee you in the chat,\nthe Plaza team",
        coupon_code="WELCOME10",
        holdout_bp=1000,
    )
    service.send_now(ctx.admin, welcome)  # delivered after the demo's commit
    service.create_campaign(
        ctx.admin,
        name="Flash sale tonight (SMS)",
        channel="sms",
        segment_id=buyers.id,
        body="Plaza: flash sale 7-9pm tonight, 20% off for members. Reply STOP to opt out.",
    )
    ctx.summary.append(
        "Campaigns: /admin/segments and /admin/campaigns (admin); mail sent is at /dev/outbox."
    )
