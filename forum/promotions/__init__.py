"""Promotions: group-buys (teams that unlock a lower price) and timed snap-ups (flash sales).

Both are offers of a shop product, embedded in posts and chat as live widgets
(``[[groupbuy:ID]]``, ``[[snap:ID]]``), and both create their orders through the
shop's service (``forum.shop_embed.service.place_order`` with their own ``kind``).
"""
