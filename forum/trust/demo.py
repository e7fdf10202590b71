"""Demo data for trust: two TL0 newcomers (one welcomed by a regular), level history,
and badges earned by the rules from the demo's own likes, replies and check-ins."""

from ..accounts import service as accounts
from ..board import service as board
from . import service


def build(ctx) -> None:
    from ..demo import DEMO_PASSWORD

    newcomers = [
        accounts.register(name, f"{name}@plaza.example", DEMO_PASSWORD)
        for name in ("newbie_nina", "fresh_fred")
    ]
    general = next((c for c in board.list_categories() if c.slug == "off-topic"), None)
    if general is not None:
        hello = board.create_thread(
            newcomers[0], general, "Hello from Nina", "First time here. What should I read first?"
        )
        for regular in ctx.members[:3]:
            board.reply(
                regular, hello, f"Welcome, @{newcomers[0].username}! Start with the pinned guides."
            )
    # A lounge only VIPs (and staff) can read: it is absent for everyone else.
    lounge = board.create_category(ctx.admin, "vip-lounge", "VIP lounge", "For our VIP members.")
    board.update_category(ctx.admin, lounge, read_tiers="vip")
    board.create_thread(
        ctx.admin, lounge, "Early access: next week's snap-ups", "VIPs see them a day early."
    )
    # Staff recognition the rules cannot give.
    service.award(ctx.members[0].id, "helpful", "demo: the most-liked answers")
    service.award(ctx.members[1].id, "event_regular", "demo: came to the meetups")
    # Trusted reviewers by the rule's sweep (the demo's reviews and helpful votes).
    service.award_trusted_reviewers()
    ctx.summary.append(
        "Trust: alice is a TL4 leader; newbie_nina and fresh_fred are TL0 newcomers "
        "(try posting three links or opening a DM as them); rules at /admin/trust; "
        "the VIP lounge is readable only by VIPs."
    )
