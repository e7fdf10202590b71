"""Member endpoints: membership, wallet, tier rules, grants, goodwill (shared/API.md, Members)."""

from flask import request

from ..accounts import service as accounts
from ..errors import field_error
from ..members import service
from ..members.schemas import (
    CreditBody,
    GrantBody,
    LedgerEntryOut,
    Membership,
    PointsBody,
    TierRules,
    TierRulesBody,
    Wallet,
    dump_entry,
    dump_membership,
)
from ..pagination import decode, encode, limit_from
from ..permissions import acting_user as _user
from . import bp
from .core import PAGE, endpoints

endpoint = endpoints(bp, tag="members")


def _membership(user) -> dict:
    return dump_membership(
        service.standing(user.id), tier_since=service.tier_since(user.id), rules=service.rules()
    )


@endpoint("/me/membership", "GET", response=Membership)
def my_membership():
    """The caller's tier, progress to the next tier and perks"""
    return _membership(_user())


@endpoint("/me/wallet", "GET", query=PAGE, response=Wallet)
def my_wallet():
    """The caller's store credit (available and pending), points and ledger"""
    user = _user()
    limit = limit_from(request.args.get("limit"))
    after = decode(request.args.get("cursor"), 1)
    if after is not None and not isinstance(after[0], int):
        raise field_error("cursor", "That cursor is not valid.")
    rows = service.entries(user.id, before=after[0] if after else None, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "credit_cents": service.available_credit(user.id),
        "pending_credit_cents": service.pending_credit(user.id),
        "points": service.available_points(user.id),
        "entries": {
            "items": [dump_entry(e) for e in rows],
            "next_cursor": encode([rows[-1].id]) if more else None,
        },
    }


@endpoint("/admin/tiers", "GET", auth="admin", response=TierRules)
def get_tier_rules():
    """The tier rules and perk settings"""
    service.check_admin(_user())
    return service.rules_json()


@endpoint("/admin/tiers", "PUT", auth="admin", body=TierRulesBody, response=TierRules)
def put_tier_rules(data: TierRulesBody):
    """Change the tier rules; later evaluations use them"""
    return service.rules_json(service.update_rules(_user(), **data.model_dump()))


@endpoint(
    "/admin/members/<username>/tier", "POST", auth="admin", body=GrantBody, response=Membership
)
def grant_tier(username: str, data: GrantBody):
    """A manual tier grant with a reason"""
    service.check_admin(_user())
    user = accounts.get_by_username(username)
    service.grant(_user(), user, data.tier, data.reason)
    return _membership(user)


# An admin's signed adjustment of a member's store credit or points, with a reason;
# answered with the ledger entry.
adjustment = endpoints(
    bp, tag="members", auth="admin", status=201, errors=(409,), response=LedgerEntryOut
)


@adjustment("/admin/members/<username>/credit", "POST", body=CreditBody)
def goodwill_credit(username: str, data: CreditBody):
    """Goodwill store credit (available at once); negative takes it away"""
    return _adjust(username, "credit", data.amount_cents, data.reason)


@adjustment("/admin/members/<username>/points", "POST", body=PointsBody)
def admin_points(username: str, data: PointsBody):
    """Points given (or, negative, taken) by an admin with a reason"""
    return _adjust(username, "points", data.amount, data.reason)


def _adjust(username: str, account: str, amount: int, reason: str) -> dict:
    service.check_admin(_user())
    user = accounts.get_by_username(username)
    return dump_entry(service.admin_adjust(_user(), user, account, amount, reason))
