"""Moderation's shapes: what the flag and decide requests carry, what a target looks
like to the queue (answered by the target's owner), and the dumps the API sends."""

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from markupsafe import Markup
from pydantic import Field

from ..accounts.schemas import dump_user_ref
from ..errors import NotFound
from ..schemas import Body, Id, iso

REASON_MAX = 500


@dataclass(frozen=True)
class Target:
    """A flaggable thing as its owner describes it (answer to ``moderation_target``).

    ``body_html`` is trusted, sanitised Markup (the owner's own rendering);
    ``context`` says where it lives ("in “Thread title”").
    """

    kind: str
    id: int
    author_id: int | None
    url: str
    context: str
    body_html: Markup
    hidden: bool = False


def target_answer(
    find: Callable[[Any, Any], Any],
) -> Callable[[Callable[[Any], Target]], Callable[..., Target | None]]:
    """Turn ``describe(row) -> Target`` into the ``moderation_target`` answer
    ``(kind, *, target_id, viewer)``: the row is ``find(target_id, viewer)``, by the
    owner's own visibility rule, and the answer is None (moderation shows nothing) when
    ``find`` gives None or raises NotFound."""

    def wrap(describe: Callable[[Any], Target]) -> Callable[..., Target | None]:
        @functools.wraps(describe)
        def answer(kind: str, *, target_id: int, viewer: Any = None) -> Target | None:
            try:
                row = find(target_id, viewer)
            except NotFound:
                return None
            return None if row is None else describe(row)

        return answer

    return wrap


class FlagBody(Body):
    target: Literal["post", "message", "review", "user", "product"]
    target_id: Id
    reason: Literal["spam", "inappropriate", "off_topic", "other"]
    note: str = Field(default="", max_length=REASON_MAX)


class DecideBody(Body):
    action: Literal["agree", "disagree", "ignore"]
    reason: str = Field(default="", max_length=REASON_MAX)


class SanctionBody(Body):
    minutes: int = Field(ge=1, le=60 * 24 * 3650)
    reason: str = Field(max_length=REASON_MAX)


def dump_flag(flag, accuracy: dict | None = None) -> dict:
    out = {
        "id": flag.id,
        "target": flag.target_type,
        "target_id": flag.target_id,
        "reason": flag.reason,
        "note": flag.note,
        "weight": flag.weight,
        "outcome": flag.outcome,
        "created_at": iso(flag.created_at),
    }
    if accuracy is not None:
        out["reporter"] = dump_user_ref(flag.reporter)
        out["reporter_accuracy"] = accuracy.get(flag.reporter_id)
    return out


def dump_item(item, flags: list, accuracy: dict, target: Target | None) -> dict:
    return {
        "id": item.id,
        "target": item.target_type,
        "target_id": item.target_id,
        "kind": item.kind,
        "status": item.status,
        "score": item.score,
        "flag_count": item.flag_count,
        "auto_hidden": item.auto_hidden,
        "author": dump_user_ref(item.author) if item.author else None,
        "claimed_by": dump_user_ref(item.claimed_by) if item.claimed_by else None,
        "decision": item.decision,
        "decision_reason": item.decision_reason,
        "url": target.url if target else None,
        "context": target.context if target else None,
        "body_html": str(target.body_html) if target else None,
        "flags": [dump_flag(flag, accuracy) for flag in flags],
        "created_at": iso(item.created_at),
    }


def dump_sanctioned(user) -> dict:
    return {
        **dump_user_ref(user),
        "silenced_until": iso(user.silenced_until),
        "silence_reason": user.silence_reason or "",
        "suspended_until": iso(user.suspended_until),
        "suspension_reason": user.suspension_reason or "",
    }
