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
from ..pagination import limit_from
from ..permissions import acting_user as _user
from . import bp, responses
from .core import endpoint


@endpoint(
    bp,
    "/flags",
    "POST",
    summary="Flag a post, chat message, review, profile or product for the moderators",
    body=FlagBody,
    status=201,
    errors=(403, 404, 409, 422, 429),
    limits=("FLAG_LIMIT",),
    tag="moderation",
    response=responses.Flag,
)
def create_flag(data: FlagBody):
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
    bp,
    "/moderation/queue",
    "GET",
    summary="Items awaiting review (or decided, by status) with their flags and score",
    auth="moderator",
    errors=(403, 422),
    query=(
        ("status", {"type": "string", "enum": ["pending", "agreed", "disagreed", "ignored"]}),
        "cursor",
        "limit",
    ),
    tag="moderation",
    response=responses.QueuePage,
)
def queue():
    page = service.queue(
        _user(),
        status=request.args.get("status", "pending"),
        cursor=request.args.get("cursor"),
        limit=limit_from(request.args.get("limit")),
    )
    return {"items": _dump_items(page.items, _user()), "next_cursor": page.next_cursor}


@endpoint(
    bp,
    "/moderation/queue/<int:item_id>/claim",
    "POST",
    summary="Claim a queue item so other moderators leave it",
    auth="moderator",
    errors=(403, 404, 409),
    tag="moderation",
    response=responses.QueueItem,
)
def claim(item_id: int):
    item = service.claim(_user(), service.get_item(_user(), item_id))
    return _dump_items([item], _user())[0]


@endpoint(
    bp,
    "/moderation/queue/<int:item_id>/decide",
    "POST",
    summary="Agree (hide; the reason goes to the author), disagree (restore) or ignore",
    auth="moderator",
    body=DecideBody,
    errors=(403, 404, 409, 422),
    tag="moderation",
    response=responses.QueueItem,
)
def decide(item_id: int, data: DecideBody):
    item = service.decide(_user(), service.get_item(_user(), item_id), data.action, data.reason)
    return _dump_items([item], _user())[0]


@endpoint(
    bp,
    "/admin/users/<username>/silence",
    "POST",
    summary="Silence a member for some minutes (they read, cannot post or chat)",
    auth="moderator",
    body=SanctionBody,
    errors=(403, 404, 422),
    tag="moderation",
    response=responses.SanctionedUser,
)
def silence(username: str, data: SanctionBody):
    user = accounts.get_by_username(username)
    return dump_sanctioned(service.silence(_user(), user, data.minutes, data.reason))


@endpoint(
    bp,
    "/admin/users/<username>/suspend",
    "POST",
    summary="Suspend a member for some minutes (they cannot log in)",
    auth="moderator",
    body=SanctionBody,
    errors=(403, 404, 422),
    tag="moderation",
    response=responses.SanctionedUser,
)
def suspend(username: str, data: SanctionBody):
    user = accounts.get_by_username(username)
    return dump_sanctioned(service.suspend(_user(), user, data.minutes, data.reason))
