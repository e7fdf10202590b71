"""Moderation's JSON API: flags, the review queue, silencing and suspending members."""

from flask import request

from ..accounts import service as accounts
from ..moderation import service
from ..moderation.schemas import (
    DecideBody,
    FlagBody,
    SanctionBody,
    dump_flag,
    dump_item,
    dump_sanctioned,
)
from ..permissions import acting_user as _user
from . import bp, responses
from .core import endpoints, page_args

endpoint = endpoints(bp, tag="moderation")


@endpoint(
    "/flags",
    "POST",
    body=FlagBody,
    status=201,
    errors=(404, 409),
    limits=("FLAG_LIMIT",),
    response=responses.Flag,
)
def create_flag(data: FlagBody):
    """Flag a post, chat message, review, profile or product for the moderators"""
    flag = service.flag_target(_user(), data.target, data.target_id, data.reason, data.note)
    return dump_flag(flag)


def _dump_items(items, viewer) -> list[dict]:
    flags = service.flags_of([item.id for item in items])
    accuracy = service.accuracy(
        [flag.reporter_id for item_flags in flags.values() for flag in item_flags]
    )
    return [
        dump_item(item, flags[item.id], accuracy, service.target_of(item, viewer)) for item in items
    ]


@endpoint(
    "/moderation/queue",
    "GET",
    auth="moderator",
    query=(
        ("status", {"type": "string", "enum": ["pending", "agreed", "disagreed", "ignored"]}),
        "cursor",
        "limit",
    ),
    response=responses.QueuePage,
)
def queue():
    """Items awaiting review (or decided, by status) with their flags and score"""
    page = service.queue(
        _user(),
        status=request.args.get("status", "pending"),
        **page_args(),
    )
    return {"items": _dump_items(page.items, _user()), "next_cursor": page.next_cursor}


@endpoint(
    "/moderation/queue/<int:item_id>/claim",
    "POST",
    auth="moderator",
    errors=(409,),
    response=responses.QueueItem,
)
def claim(item_id: int):
    """Claim a queue item so other moderators leave it"""
    item = service.claim(_user(), service.get_item(_user(), item_id))
    return _dump_items([item], _user())[0]


@endpoint(
    "/moderation/queue/<int:item_id>/decide",
    "POST",
    auth="moderator",
    body=DecideBody,
    errors=(409,),
    response=responses.QueueItem,
)
def decide(item_id: int, data: DecideBody):
    """Agree (hide; the reason goes to the author), disagree (restore) or ignore"""
    item = service.decide(_user(), service.get_item(_user(), item_id), data.action, data.reason)
    return _dump_items([item], _user())[0]


# Silencing and suspending take the same body and answer alike; the service says what
# each does.
sanction = endpoints(
    bp, tag="moderation", auth="moderator", body=SanctionBody, response=responses.SanctionedUser
)


@sanction("/admin/users/<username>/silence", "POST")
def silence(username: str, data: SanctionBody):
    """Silence a member for some minutes (they read, cannot post or chat)"""
    user = accounts.get_by_username(username)
    return dump_sanctioned(service.silence(_user(), user, data.minutes, data.reason))


@sanction("/admin/users/<username>/suspend", "POST")
def suspend(username: str, data: SanctionBody):
    """Suspend a member for some minutes (they cannot log in)"""
    user = accounts.get_by_username(username)
    return dump_sanctioned(service.suspend(_user(), user, data.minutes, data.reason))
