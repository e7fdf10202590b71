"""The user card: what hovering or tapping a member's name shows. Public facts only
(never email, silence, suspension reason, or anything the profile keeps to the member)."""

from dataclasses import dataclass
from datetime import datetime

from flask import url_for

from ...accounts import service as accounts
from ...errors import ServiceError
from ...permissions import check_member, is_member
from ...trust import service as trust


@dataclass(frozen=True)
class Card:
    id: int
    username: str
    avatar_url: str | None
    initials: str
    avatar_hue: int
    trust_level: int
    tier: str
    roles: list[str]
    joined: datetime
    post_count: int
    suspended: bool
    profile_url: str
    can_message: bool  # the viewer may open a direct conversation with this member now


def may_message(viewer, user) -> bool:
    """A signed-in, unsuspended member who has the trust level for direct messages, to
    someone else who is not suspended."""
    if not is_member(viewer) or viewer.id == user.id or user.is_suspended:
        return False
    try:
        check_member(viewer)
        trust.check_direct_message(viewer)
    except ServiceError:
        return False
    return True


def user_card(username: str, viewer=None) -> Card:
    """The card of ``username``; NotFound for nobody of that name. A suspended member's
    card says so and shows no stats beyond the name and join date."""
    user = accounts.get_by_username(username)
    suspended = user.is_suspended
    return Card(
        id=user.id,
        username=user.username,
        avatar_url=accounts.avatar_url(user),
        initials=user.initials,
        avatar_hue=user.avatar_hue,
        trust_level=0 if suspended else (user.trust_level or 0),
        tier="registered" if suspended else user.tier,
        roles=[] if suspended else [r for r in user.roles if r != "member"],
        joined=user.created_at,
        post_count=0 if suspended else user.post_count,
        suspended=suspended,
        profile_url=url_for("accounts.profile", username=user.username),
        can_message=may_message(viewer, user),
    )
