"""Trust levels: the one place that reads and checks them.

The level is stored on ``users.trust_level`` (0-4) so every user reference carries
it without a query; only this package writes it. Moderators and admins are exempt
from every trust restriction.
"""

from typing import Any

from ...errors import Forbidden
from ...permissions import can_moderate, is_member

LEVELS = (0, 1, 2, 3, 4)
LEVEL_NAMES = {0: "new member", 1: "basic", 2: "member", 3: "regular", 4: "leader"}


def level_of(user: Any) -> int:
    """The member's trust level; a visitor is 0."""
    if not is_member(user):
        return 0
    return int(getattr(user, "trust_level", 0) or 0)


def is_exempt(user: Any) -> bool:
    """Staff are never held back by trust."""
    return can_moderate(user)


def meets(user: Any, level: int) -> bool:
    return is_exempt(user) or level_of(user) >= level


def require_level(user: Any, level: int, action: str) -> None:
    """Forbidden ``trust_level_required`` unless ``user`` is at ``level`` or staff.

    ``action`` completes "Trust level N is needed to ..." (e.g. "post images").
    """
    if not meets(user, level):
        raise Forbidden(
            f"Trust level {level} ({LEVEL_NAMES[level]}) is needed to {action}; "
            f"you are at trust level {level_of(user)}.",
            code="trust_level_required",
        )
