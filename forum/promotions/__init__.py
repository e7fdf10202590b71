"""Promotions: group-buys (teams that unlock a lower price, fixed or by ladder steps),
timed snap-ups (flash sales), Dutch auctions and lowest-unique-price guessing games.

All are offers of a shop product, embedded in posts and chat as live widgets
(``[[groupbuy:ID]]``, ``[[snap:ID]]``, ``[[auction:ID]]``, ``[[guess:ID]]``), and all
create their orders through the shop's service (``forum.shop_embed.service.place_order`` with their own ``kind``).
"""

from flask import Flask

from .. import signals


def init_app(app: Flask) -> None:
    from .. import widget_shells
    from .service import auctions, guessing, placements, snaps
    from .service.game_widgets import may_watch_auction, may_watch_game
    from .service.widgets import (
        WIDGETS,
        may_watch_group_buy,
        may_watch_snap,
        may_watch_team,
        widget_of,
    )

    app.add_template_global(widget_shells.time_left, "promo_time_left")
    # A snap-up or auction order cancelled, expired or refunded gives its units back;
    # a guessing game's winner who pays keeps the win, one who does not passes it on.
    signals.order_changed.connect(snaps.give_back)
    for kind in WIDGETS:
        signals.widget_for.connect(widget_of, sender=kind)
    signals.order_changed.connect(auctions.give_back)
    signals.order_changed.connect(guessing.on_order_changed)
    # Where auctions and games are shown, so their results post back there.
    signals.post_created.connect(placements.on_post_created)
    signals.message_sent.connect(placements.on_message_sent)
    signals.offer_watch_allowed.connect(may_watch_auction, sender="auction")
    signals.offer_watch_allowed.connect(may_watch_game, sender="guess")
    signals.offer_watch_allowed.connect(may_watch_group_buy, sender="groupbuy")
    signals.offer_watch_allowed.connect(may_watch_team, sender="team")
    signals.offer_watch_allowed.connect(may_watch_snap, sender="snap")
