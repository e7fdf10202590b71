"""Promotion rules: group-buys (fixed or ladder), snap-ups, Dutch auctions, guessing games
and reminders. Every write goes through here.

One room split by subject (groupbuys, ladders, snaps, auctions, guessing, reminders,
placements, widgets, game_widgets); this module is its front
door: callers use ``service.<function>``. Functions check first and then write;
a refusal raises a ``forum.errors`` ServiceError and the caller rolls back, so
nothing is written. Orders are made only through the shop's service
(``place_order`` with ``kind="groupbuy"`` held until the team succeeds, or
``kind="snap"`` with the snap-up price and its short payment window).

Other features (attribution) hear ``forum.signals.team_joined`` and
``team_settled``; orders themselves send the shop's ``signals.order_changed``
(``promotions.init_app`` connects the snap-up's receiver to it).
"""

from .auctions import TERMS as AUCTION_TERMS  # noqa: F401
from .auctions import (  # noqa: F401
    auction_editable,
    auction_payload,
    auction_room,
    auction_url,
    auctions_of,
    create_auction,
    edit_auction,
    end_auction,
    get_auction,
    next_drop_at,
    price_at,
    sold_prices,
    take,
    taken_by,
)
from .auctions import payment_window as auction_payment_window  # noqa: F401
from .auctions import units_left as auction_units_left  # noqa: F401
from .audience import (  # noqa: F401
    DEAL_KINDS,
    deal_participation_sql,
    in_failed_team_sql,
    live_deals_sql,
    promotion_discounts_of,
    promotion_facts,
    promotion_orders_of,
    promotions_of,
)
from .common import (  # noqa: F401
    MAX_PER_USER,
    MAX_SNAP_STOCK,
    MAX_TEAM_SIZE,
    MAX_TEAM_WINDOW,
    MIN_TEAM_SIZE,
    MIN_TEAM_WINDOW,
)
from .game_widgets import render_auction, render_game  # noqa: F401
from .groupbuys import (  # noqa: F401
    campaign_counts,
    create_group_buy,
    end_group_buy,
    forming_teams,
    get_group_buy,
    get_team,
    group_buy_room,
    group_buy_url,
    group_buys_of,
    join_team,
    membership,
    my_teams,
    open_group_buys,
    roster,
    settle_due_teams,
    settle_team,
    share_url,
    start_team,
    team_member_ids,
    team_payload,
    team_room,
    teams_of_campaign,
)
from .guessing import TERMS as GAME_TERMS  # noqa: F401
from .guessing import (  # noqa: F401
    chart_data,
    close_game,
    create_game,
    current_winner,
    distribution,
    edit_game,
    game_editable,
    game_payload,
    game_room,
    game_url,
    games_of,
    get_game,
    my_guesses,
    ranking,
    settle_game,
    submit_guess,
)
from .ladders import steps_view, team_price  # noqa: F401
from .reminders import has_reminder, remind_me, send_due_reminders  # noqa: F401
from .snaps import (  # noqa: F401
    bought_by,
    buy_snap,
    buy_snap_by_id,
    create_snap,
    current_snaps,
    end_snap,
    get_snap,
    sales,
    snap_payload,
    snap_payment_window,
    snap_room,
    snap_url,
    snaps_of,
    state_of,
    stock_left,
)
from .widgets import (  # noqa: F401
    group_buy_body,
    load_auctions,
    load_games,
    load_group_buys,
    load_offers,
    load_snaps,
    render_group_buy,
    render_snap,
)
