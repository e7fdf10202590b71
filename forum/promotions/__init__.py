"""Promotions: group-buys (teams that unlock a lower price) and timed snap-ups (flash sales).

Both are offers of a shop product, embedded in posts and chat as live widgets
(``[[groupbuy:ID]]``, ``[[snap:ID]]``), and both create their orders through the
shop's service (``forum.shop_embed.service.place_order`` with their own ``kind``).
"""

from flask import Flask

from .. import signals


def init_app(app: Flask) -> None:
    from .service import snaps
    from .service.widgets import (
        group_buy_widget,
        may_watch_group_buy,
        may_watch_snap,
        may_watch_team,
        snap_widget,
    )

    # A snap-up order cancelled, expired or refunded gives its units back.
    signals.order_changed.connect(snaps.give_back)
    signals.widget_for.connect(group_buy_widget, sender="groupbuy")
    signals.widget_for.connect(snap_widget, sender="snap")
    signals.offer_watch_allowed.connect(may_watch_group_buy, sender="groupbuy")
    signals.offer_watch_allowed.connect(may_watch_team, sender="team")
    signals.offer_watch_allowed.connect(may_watch_snap, sender="snap")
