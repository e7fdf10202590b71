"""Attribution rules: clicks, touches, conversions, commission, author rewards, payouts.

Other features call this module, never its tables:

- ``record_click(link, ...)`` logs a visit of a tracked ``/go/`` link.
- ``record_action(kind, user_id=, merchant_id=, key=)`` records a CPA action
  (``signup``, ``event_signup``, ``team_join``, ``first_purchase``) once per key.
- ``record_order(OrderFacts)`` / ``on_order_status(OrderFacts)`` follow an order:
  the first call that sees it paid records its conversion (and the buyer's
  ``first_purchase`` with that merchant); ``completed`` starts the lock period;
  ``refunded``/``cancelled`` reverse what has not been paid out. Both are
  idempotent and safe to call for every order event, in any order, twice, or
  from two processes at once (the conversion's UNIQUE key decides).
- ``payer(kind, obj)`` / ``offer_owner(ref)``: who pays for an offer (see
  ``forum.attribution.offers``, the one table of offer kinds and their owners).

Credit: a touch is a click by the customer on a widget of the same merchant in
the last ``ATTRIBUTION_WINDOW_DAYS``; the merchant's model picks the last
(default), the first, or all distinct sources (linear, equal shares; time decay;
position-based 40/20/40, see ``conversions.credit_weights``). No touch:
the conversion is ``direct``. Self-referrals (the author is the customer, or the
merchant) are credited for the report but earn nothing.

Money: integer cents. Each eligible credit gets one ``earned`` commission row;
reversing adds its exact negative once, so no conversion's sum goes below zero.
Earned rows become approvable ``ATTRIBUTION_LOCK_DAYS`` after the order
completes (after the action for CPA); the ``attribution.approve_commissions``
job approves them and credits the author their ``ATTRIBUTION_AUTHOR_SHARE_BP``
share as store credit (idempotent by key). Reads treat a pending row whose lock
has passed as approved, so nothing depends on the job having run.

One room split by subject; this module is its front door (callers keep
``from ..attribution import service`` and use ``service.<function>``):
``common`` (settings, limits, shared helpers), ``clicks`` (the click policy,
visits), ``signups`` (sign-up candidates and review), ``merchants`` (settings),
``conversions`` (touches, credit, CPA actions, orders), ``ledger`` (reversal,
approval, payouts, balances), ``earnings`` (an author's view).
"""

from ...errors import Conflict, Forbidden, NotFound, ValidationFailed  # noqa: F401 (callers catch these)
from ..links import campaign_href  # noqa: F401 (campaigns: tracked offer links)
from ..offers import OfferKind, offer_labels, offer_owner, payer  # noqa: F401
from .audience import (  # noqa: F401
    clicked_offer_sql,
    credited_order_ids,
    credited_order_keys,
    credited_order_keys_by_source,
    credited_orders,
    credited_orders_by_day,
    offer_clicks,
    offer_costs,
    offer_costs_by_embed,
    offer_costs_by_source,
)
from .clicks import (  # noqa: F401
    SUBRESOURCE_ACCEPT,
    TOUCH_HEADER,
    claim_visitor,
    counts_as_click,
    record_click,
    viewer_key,
)
from .common import (  # noqa: F401
    BOT_RE,
    CPA_FIELDS,
    CURRENCY_RE,
    ENDED_STATUSES,
    KEY_RE,
    MAX_CPA_CENTS,
    MAX_ORDER_CENTS,
    MAX_RATE_BP,
    ORDER_STATUSES,
    PAID_STATUSES,
    PERSON_ACTIVITIES,
    is_bot,
    lock_period,
    setting,
    split,
    window,
)
from .conversions import (  # noqa: F401
    OrderFacts,
    choose,
    latest_touch,
    on_order_status,
    order_conversion,
    record_action,
    record_order,
    reverse_action,
    touches_for,
)
from .earnings import Earning, EarningsPage, earnings, earnings_summary  # noqa: F401
from .engagement import deal_clicks_sql, product_clicks_sql  # noqa: F401
from .ledger import (  # noqa: F401
    approve_due,
    balances,
    effective_status,
    ledger_sum,
    pay_out,
    recent_payouts,
    reprice_order,
)
from .merchants import check_merchant, settings_of, update_settings  # noqa: F401
from .signups import (  # noqa: F401
    claim_on_login,
    held_signups,
    on_email_verified,
    on_person_activity,
    on_registered,
    review_signup,
)
