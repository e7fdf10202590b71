"""Reviews rules, behind one front door: callers use ``service.<function>``.

Rooms: ``reviews`` (who may review, writing, editing, hiding, deleting, votes,
replies, flags), ``queries`` (lists, the recount, search, threads embedding a
product), ``reports`` (experience reports and their approval), ``rewards`` (paid once
per order item, reversed once), ``nudges`` (the invitation and the reminder),
``common``. ``on_order_changed`` is the receiver of ``signals.order_changed``.
"""

from .common import SORTS, address_key  # noqa: F401
from .nudges import invitation_text, invite, send_reminders  # noqa: F401
from .queries import (  # noqa: F401
    Page,
    computed_ratings,
    helpful_reviewers,
    list_reviews,
    plain_text,
    recount_ratings,
    review_texts,
    threads_embedding,
)
from .reports import (  # noqa: F401
    approved_reports,
    can_decide,
    create_report,
    decide_report,
    describe_report,
    get_report,
    pending_reports,
    remove_report,
    report_categories,
    report_for_thread,
    reportable_items,
)
from .reviews import (  # noqa: F401
    can_reply,
    check_can_review,
    create_review,
    delete_review,
    describe_review,
    edit_review,
    flag_review,
    flagged_reviews,
    get_review,
    hide_review,
    is_moderator,
    reply,
    reviewable_items,
    revisions,
    set_hidden,
    vote_helpful,
    voted_ids,
)
from .rewards import (  # noqa: F401
    describe,
    grants_for,
    merchant_topup,
    order_grants,
    reverse,
    reverse_for_refund,
    reward_for,
    set_merchant_topup,
    site_reward,
)


def on_order_changed(order, *, event, **_) -> None:
    """``signals.order_changed``: invite a review when an order completes; take back the
    review and report rewards of an order refunded (wholly) or partly refunded (in
    proportion, see ``rewards.reverse_for_refund``). In the order's transaction; never
    refuses the change (a reversal takes only what is left)."""
    if event.type == "completed" or event.to_status == "completed":
        invite(order)
    elif event.to_status == "refunded" or event.type == "partially_refunded":
        reverse_for_refund(order, event)
