"""Promotion rules: group-buys and snap-ups. Every write goes through here.

One room split by subject (groupbuys, snaps, widgets); this module is its front
door: callers use ``service.<function>``. Functions check first and then write;
a refusal raises a ``forum.errors`` ServiceError and the caller rolls back, so
nothing is written. Orders are made only through the shop's service
(``place_order`` with ``kind="groupbuy"`` held until the team succeeds, or
``kind="snap"`` with the snap-up price and its short payment window).

Other features (attribution) hear ``forum.signals.team_joined`` and
``team_settled``; orders themselves send the shop's ``signals.order_changed``
(``promotions.init_app`` connects the snap-up's receiver to it).
"""

from .common import (  # noqa: F401
    MAX_PER_USER,
    MAX_SNAP_STOCK,
    MAX_TEAM_SIZE,
    MAX_TEAM_WINDOW,
    MIN_TEAM_SIZE,
    MIN_TEAM_WINDOW,
    snap_payment_window,
)
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
    read_team,
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
from .snaps import (  # noqa: F401
    bought_by,
    buy_snap,
    create_snap,
    current_snaps,
    end_snap,
    get_snap,
    sales,
    snap_payload,
    snap_room,
    snap_url,
    snaps_of,
    state_of,
    stock_left,
)
from .widgets import (  # noqa: F401
    group_buy_body,
    load_group_buys,
    load_snaps,
    render_group_buy,
    render_snap,
)
