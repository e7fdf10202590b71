"""Shop rules: merchants, products, stock, carts, orders and their state machine.

One room split by subject: merchants, products, stock (every hold write), carts,
pricing (every price rule: ``price_quote``), checkout (place + pay in one call),
orders (reading, placing), lifecycle (the state machine), payments (pay, refund),
fulfilment (ship, complete, cancel, address, held orders), expiry, widgets;
this module is its front door: callers use ``service.<function>``. Every write
goes through here; views, the API, jobs and the demo only parse
input and call these functions. Functions check first and then write; a refusal
raises a ``forum.errors`` ServiceError before anything is written (or the caller
rolls the transaction back, which the API and views do).

Stock (see models.py for the conservation rule):
- Taking units is ONE conditional statement,
  ``UPDATE shop_products SET stock = stock - :q WHERE id = :id AND stock >= :q``,
  checked through RETURNING; nothing reads stock and then writes it.
- An unpaid order's hold expires at ``expires_at``. Expired holds stop counting
  at once: ``available_stock`` adds them back, and a buyer who needs those units
  releases them (conditionally, so each hold is released exactly once) before
  retrying the statement. The ``shop.expire_orders`` job tidies the rest up.
- Locks are always taken in one global order, so PostgreSQL never deadlocks:
  at most one order row first, then per product in ascending id: the product
  row, then that product's holds. Code that touches holds locks their product
  first (``_lock_product``), except paying, which only consumes the order's own
  holds (product by product, ascending) and locks nothing after them. The expiry
  job commits after each order so it never goes back from products to orders.

Order states: pending -> paid -> shipped -> completed, or pending -> cancelled,
and paid/shipped/completed -> refunded. An order placed ``held`` (``place_order(held_until=)``,
e.g. a group-buy member's while the team forms) keeps its stock until ``release_held``
(-> pending, or -> paid when it was paid in advance) or ``void_held`` (-> cancelled, or
-> refunded when paid in advance); the buyer may pay it in advance with an instant
provider, and nobody can cancel, ship or mark it paid meanwhile. Every change goes through
``change_status`` (one conditional UPDATE on the status), which appends an
``OrderEvent`` and sends ``forum.signals.order_changed``, so attribution and
promotions can react without this package knowing them.

For the next features: group-buys and snap-ups add order ``kind``s and reuse
``place_order``'s holds and the state machine (``unit_prices`` overrides the list
price, ``pay_within`` the payment window, ``held_until`` places it held); attribution calls ``set_source``
and connects to ``signals.order_changed`` (refunded -> reverse commission); offer kinds
answer who may watch their live room through ``signals.offer_watch_allowed``.
"""

from ..models import NOT_DISCOUNTS  # noqa: F401
from .audience import (  # noqa: F401
    bought_at_sql,
    bought_from_since_sql,
    buyers_between,
    completed_orders_sql,
    merchant_ids_of,
    merchant_orders_between,
    merchant_product_ids,
    ordered_since_sql,
    product_facts,
    purchases_between,
    spend_sql,
)
from .carts import (  # noqa: F401
    Quote,
    QuoteLine,
    cart_add,
    cart_lines,
    cart_quote,
    cart_set,
    normalise_lines,
    quote,
)
from .checkout import checkout, checkout_replayed  # noqa: F401
from .common import (  # noqa: F401
    ADDRESS_FIELDS,
    ADDRESS_REQUIRED,
    CURRENCIES,
    DESCRIPTION_MAX,
    IDEMPOTENCY_KEY_RE,
    LOW_STOCK,
    MAX_LINES,
    MAX_PRICE_CENTS,
    MAX_QUANTITY,
    MAX_STOCK,
    NAME_MAX,
    PAID_STATUSES,
    SLUG_RE,
    is_admin,
    is_merchant,
)
from .engagement import (  # noqa: F401
    offerable_products_sql,
    product_names_sql,
    purchased_products_sql,
)
from .expiry import (  # noqa: F401
    expire_due_orders,
    expire_order,
    is_overdue,
    overdue_order_ids,
    shown_status,
    unpaid_order_ids,
)
from .fulfilment import (  # noqa: F401
    cancel,
    check_order_buyer,
    check_order_merchant,
    complete,
    is_order_merchant,
    release_held,
    set_shipping_address,
    ship,
    void_held,
)
from .lifecycle import (  # noqa: F401
    STAMPS,
    TRANSITIONS,
    change_status,
    payment_window,
    record_event,
)
from .merchants import (  # noqa: F401
    get_merchant,
    initials,
    list_merchants,
    merchant_of,
    require_merchant,
    save_merchant_profile,
    shipping_for,
)
from .orders import (  # noqa: F401
    Page,
    can_view_order,
    find_order,
    get_order,
    lock_orders,
    next_steps,
    order_by_key,
    order_deadlines,
    order_events,
    order_ids_with_key,
    order_payment,
    order_statuses,
    orders_of_buyer,
    orders_of_merchant,
    orders_with_ids,
    place_order,
    saved_address,
    set_source,
)
from .payments import mark_paid, pay, refund  # noqa: F401
from .pricing import PRICE_STEPS, Adjustment, PriceLine, PriceQuote, price_quote  # noqa: F401
from .products import (  # noqa: F401
    AUDIENCES,
    apply_rating,
    archive_product,
    buyable_product_ids,
    check_owner,
    create_product,
    featured_products,
    find_product,
    get_product,
    listed_product_ids,
    merchant_product,
    merchant_products,
    owns_product,
    product_heads,
    products_with_ids,
    search_documents,
    set_product_image,
    set_rating,
    update_product,
    with_merchant,
)
from .purchases import (  # noqa: F401
    bought_item,
    bought_items,
    buyer_ids,
    completed_items,
    completed_order_count,
    completed_order_counts,
    completed_order_ids,
    completed_purchases,
    completed_purchases_query,
    completed_spend,
    has_ordered,
    merchandise_spend,
    order_figures,
    order_item_ids,
    paid_order_ids,
    purchase_of,
    shipping_addresses,
)
from .repricing import lower_prices  # noqa: F401
from .stock import (  # noqa: F401
    StockState,
    available_stock,
    held_units,
    holds_intact,
    lock_products,
    offer_room,
    sold_units,
    stock_label,
    stock_state,
)
from .widgets import (  # noqa: F401
    Card,
    image_url,
    load_cards,
    may_watch_offer,
    may_watch_product,
    product_url,
    render_card,
)
