"""Commerce gates: a minimum trust level or account age to take promotional units and to
earn commission, so bot accounts and scalpers get nothing. Each gate is off (0 and 0)
by default: a new member may buy on day one. The operator turns one on with
``TRUST_GATE_<ACT>_LEVEL`` and/or ``TRUST_GATE_<ACT>_AGE_DAYS``.

Promotions call ``check_commerce`` at the entry of every take (page, API and socket
share those service functions); attribution asks ``may_earn`` before crediting."""

from flask import current_app

from ...accounts.models import User
from ...clock import now
from ...errors import Forbidden
from ...extensions import db
from .common import LEVEL_NAMES, is_exempt, level_of

ACTS = {
    "snap": "take snap-up units",
    "auction": "take auction units",
    "guess": "make a guess",
    "team": "join a group-buy team",
    "commission": "earn commission",
    "referral": "earn sign-up commission for this member",
}


def gate(act: str) -> tuple[int, int]:
    """(minimum trust level, minimum account age in days) for ``act``; (0, 0) is off."""
    key = act.upper()
    return (
        int(current_app.config.get(f"TRUST_GATE_{key}_LEVEL") or 0),
        int(current_app.config.get(f"TRUST_GATE_{key}_AGE_DAYS") or 0),
    )


def _refusal(user, act: str) -> str | None:
    level, days = gate(act)
    if (not level and not days) or is_exempt(user):
        return None
    have = level_of(user)
    if level and have < level:
        return (
            f"Trust level {level} ({LEVEL_NAMES[level]}) is needed to {ACTS[act]}; "
            f"you are at trust level {have}."
        )
    created = getattr(user, "created_at", None)
    if days and (created is None or (now() - created).days < days):
        return f"Accounts need to be {days} days old to {ACTS[act]}."
    return None


def check_commerce(user, act: str) -> None:
    """Raise Forbidden ``trust_level_required`` unless ``user`` passes ``act``'s gate."""
    message = _refusal(user, act)
    if message:
        raise Forbidden(message, code="trust_level_required")


def may_earn_id(user_id: int | None, act: str = "commission") -> bool:
    """``may_earn`` by id; loads the member only when the gate is on."""
    if gate(act) == (0, 0):
        return user_id is not None
    return user_id is not None and may_earn(db.session.get(User, user_id), act)


def may_earn(user, act: str = "commission") -> bool:
    """Whether commission / CPA for ``act`` may be credited (``commission``: to the
    author; ``referral``: for a member's own sign-up). Never raises."""
    if user is None:
        return False
    return _refusal(user, act) is None
