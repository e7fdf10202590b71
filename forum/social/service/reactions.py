"""Reactions: a short fixed set of emoji beside the like, one of each per member and post."""

from dataclasses import dataclass

from sqlalchemy import delete, func, select

from ...board import service as board
from ...clock import now
from ...database import insert_ignore
from ...errors import Conflict, NotFound, field_error
from ...extensions import db
from ...permissions import check_member, is_member
from ..models import PostReaction

# name -> emoji, in the order they are offered. Names are what the API and forms carry.
REACTIONS: dict[str, str] = {
    "thumbsup": "👍",
    "laugh": "😂",
    "wow": "😮",
    "thanks": "🙏",
    "party": "🎉",
    "eyes": "👀",
}


@dataclass(frozen=True)
class Reaction:
    """One reaction's standing on a post: how many, and whether the viewer gave it."""

    name: str
    emoji: str
    count: int
    mine: bool


def check_reaction(name) -> str:
    if not isinstance(name, str) or name not in REACTIONS:
        raise field_error(
            "reaction", f"Choose one of: {', '.join(REACTIONS)}.", code="unknown_reaction"
        )
    return name


def _reactable_post(user, post_id: int):
    """The post ``user`` may react to: one they can read, neither hidden nor deleted."""
    check_member(user)
    post = board.visible_post(post_id, viewer=user)
    if post.is_deleted or post.is_hidden:
        raise NotFound("No such post.")
    return post


def add_reaction(user, post_id: int, name: str) -> list[Reaction]:
    """Give reaction ``name`` to the post; returns the post's reactions. Raises
    ValidationFailed (unknown name), NotFound (a post the member cannot see),
    Conflict ``already_reacted`` when this member already gave it (the unique key
    decides, so two tabs at once make one row)."""
    post = _reactable_post(user, post_id)  # first: an unseen post says nothing more
    name = check_reaction(name)
    added = db.session.execute(
        insert_ignore(
            PostReaction,
            {"post_id": post.id, "user_id": user.id, "reaction": name, "created_at": now()},
            index_elements=["post_id", "user_id", "reaction"],
        ).returning(PostReaction.id)
    ).scalar()
    if added is None:
        raise Conflict("You already reacted with that.", code="already_reacted")
    return reactions_of([post.id], user)[post.id]


def remove_reaction(user, post_id: int, name: str) -> list[Reaction]:
    """Take back reaction ``name``; a reaction never given changes nothing."""
    post = _reactable_post(user, post_id)  # first: an unseen post says nothing more
    name = check_reaction(name)
    db.session.execute(
        delete(PostReaction).where(
            PostReaction.post_id == post.id,
            PostReaction.user_id == user.id,
            PostReaction.reaction == name,
        )
    )
    return reactions_of([post.id], user)[post.id]


def toggle_reaction(user, post_id: int, name: str) -> list[Reaction]:
    """The form's button: give the reaction, or take it back when already given."""
    post = _reactable_post(user, post_id)  # first: an unseen post says nothing more
    name = check_reaction(name)
    given = db.session.scalar(
        select(PostReaction.id).where(
            PostReaction.post_id == post.id,
            PostReaction.user_id == user.id,
            PostReaction.reaction == name,
        )
    )
    if given is not None:
        return remove_reaction(user, post.id, name)
    try:
        return add_reaction(user, post.id, name)
    except Conflict:  # the other tab was faster: the reaction is there, as asked
        return reactions_of([post.id], user)[post.id]


def reactions_of(post_ids, viewer=None) -> dict[int, list[Reaction]]:
    """Per post, the reactions it has (count > 0, in the offered order) and which of
    them ``viewer`` gave. Two queries whatever the number of posts."""
    ids = sorted({int(i) for i in post_ids})
    out: dict[int, list[Reaction]] = {i: [] for i in ids}
    if not ids:
        return out
    counts = db.session.execute(
        select(PostReaction.post_id, PostReaction.reaction, func.count())
        .where(PostReaction.post_id.in_(ids))
        .group_by(PostReaction.post_id, PostReaction.reaction)
    ).all()
    mine: set[tuple[int, str]] = set()
    if is_member(viewer):
        mine = {
            (row.post_id, row.reaction)
            for row in db.session.execute(
                select(PostReaction.post_id, PostReaction.reaction).where(
                    PostReaction.post_id.in_(ids), PostReaction.user_id == viewer.id
                )
            )
        }
    by_post: dict[int, dict[str, int]] = {}
    for post_id, name, count in counts:
        by_post.setdefault(post_id, {})[name] = count
    for post_id, named in by_post.items():
        out[post_id] = [
            Reaction(name, emoji, named[name], (post_id, name) in mine)
            for name, emoji in REACTIONS.items()
            if name in named
        ]
    return out
