"""Reactions, bookmarks, drafts and user cards (the social package's JSON entry points)."""

from typing import Any

from ..errors import ValidationFailed
from ..permissions import acting_user
from ..social import service
from ..social.schemas import (
    BookmarkBody,
    DraftBody,
    dump_bookmark,
    dump_card,
    dump_draft,
    dump_reactions,
)
from . import bp
from .core import PAGE, endpoints, page_args
from .responses import social as shapes

endpoint = endpoints(bp, tag="social")


# --- reactions ---------------------------------------------------------------------


@endpoint("/posts/<int:post_id>/reactions", "GET", auth="anyone", response=shapes.Reactions)
def list_post_reactions(post_id: int):
    """A post's reactions: counts per emoji, and which the caller gave"""
    from ..board import service as board

    post = board.visible_post(post_id, viewer=acting_user())
    return dump_reactions(service.reactions_of([post.id], acting_user())[post.id])


@endpoint(
    "/posts/<int:post_id>/reactions/<reaction>",
    "POST",
    status=201,
    errors=(409, 422),
    response=shapes.Reactions,
)
def add_post_reaction(post_id: int, reaction: str):
    """React to a post with one of the fixed emoji, by name: thumbsup, laugh, wow, thanks, party,
    eyes"""
    return dump_reactions(service.add_reaction(acting_user(), post_id, reaction))


@endpoint(
    "/posts/<int:post_id>/reactions/<reaction>", "DELETE", errors=(422,), response=shapes.Reactions
)
def remove_post_reaction(post_id: int, reaction: str):
    """Take back your reaction"""
    return dump_reactions(service.remove_reaction(acting_user(), post_id, reaction))


# --- bookmarks ---------------------------------------------------------------------


@endpoint("/bookmarks", "GET", query=PAGE, errors=(403,), response=shapes.BookmarkPage)
def list_my_bookmarks():
    """Your bookmarks, newest first"""
    return service.list_bookmarks(acting_user(), **page_args()).dump(dump_bookmark)


@endpoint(
    "/bookmarks", "POST", body=BookmarkBody, status=201, errors=(404, 409), response=shapes.Bookmark
)
def add_my_bookmark(data: BookmarkBody):
    """Bookmark a post (`post_id`) or a thread (`thread_id`)"""
    if (data.post_id is None) == (data.thread_id is None):
        raise ValidationFailed(
            "Give either post_id or thread_id.",
            fields={"post_id": ["Give either post_id or thread_id."]},
        )
    kind, target = (
        ("post", data.post_id) if data.post_id is not None else ("thread", data.thread_id)
    )
    bookmark = service.add_bookmark(acting_user(), kind, target)
    return dump_bookmark(service.describe(acting_user(), [bookmark])[0])


@endpoint("/bookmarks/<int:bookmark_id>", "DELETE")
def delete_my_bookmark(bookmark_id: int):
    """Remove one of your bookmarks"""
    service.remove_bookmark(acting_user(), bookmark_id)


# --- drafts ------------------------------------------------------------------------


@endpoint("/drafts", "GET", query=PAGE, errors=(403,), response=shapes.DraftPage)
def list_my_drafts():
    """Your drafts, most recently started first"""
    return service.list_drafts(acting_user(), **page_args()).dump(dump_draft)


def _draft_endpoints(rule: str, place: str, *, what: str, saving: str, titled: bool) -> None:
    """GET, PUT and DELETE of the caller's draft ``what`` at ``rule`` (one path
    parameter naming the thread or category), as the operations ``get_<place>_draft``,
    ``put_<place>_draft`` and ``delete_<place>_draft``; a draft is read, saved and
    discarded alike wherever it waits, and only a new thread's draft has a title."""
    keyword = {"thread": "thread_id", "category": "category"}[place]

    def where(path: dict[str, Any]) -> dict[str, Any]:
        (value,) = path.values()
        return {keyword: value}

    @endpoint(
        rule,
        "GET",
        summary=f"Your draft {what}",
        errors=(403,),
        response=shapes.Draft,
        operation_id=f"get_{place}_draft",
    )
    def get_draft(**path):
        return dump_draft(service.get_draft(acting_user(), **where(path)))

    @endpoint(
        rule,
        "PUT",
        summary=saving,
        body=DraftBody,
        errors=(409,),
        response=shapes.Draft,
        operation_id=f"put_{place}_draft",
    )
    def put_draft(data: DraftBody, **path):
        title = data.title if titled else ""  # a reply's draft has none
        return dump_draft(
            service.save_draft(
                acting_user(), data.body, title=title, opened_at=data.opened_at, **where(path)
            )
        )

    @endpoint(
        rule, "DELETE", summary=f"Discard your draft {what}", operation_id=f"delete_{place}_draft"
    )
    def delete_draft(**path):
        service.discard_draft(acting_user(), **where(path))


_draft_endpoints(
    "/drafts/threads/<int:thread_id>",
    "thread",
    what="reply in a thread",
    saving="Save your draft reply in a thread (an empty body deletes it; 409 draft_posted "
    "when you posted there after opened_at)",
    titled=False,
)
_draft_endpoints(
    "/drafts/categories/<slug>",
    "category",
    what="of a new thread in a category",
    saving="Save your draft of a new thread in a category (title and body; 409 "
    "draft_posted when you opened a thread there after opened_at)",
    titled=True,
)


# --- user cards --------------------------------------------------------------------


@endpoint("/users/<username>/card", "GET", auth="anyone", response=shapes.UserCard)
def get_user_card(username: str):
    """A member's card: avatar, trust level, tier, joined, whether you may message them"""
    return dump_card(service.user_card(username, viewer=acting_user()))
