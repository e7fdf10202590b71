"""Reactions, bookmarks, drafts and user cards (the social package's JSON entry points)."""

from ..errors import ValidationFailed
from ..pagination import limit_from
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
from .core import endpoints
from .responses import social as shapes

endpoint = endpoints(bp, tag="social")
PAGE = ("cursor", "limit")


def _page_args():
    from flask import request

    return request.args.get("cursor"), limit_from(request.args.get("limit"))


# --- reactions ---------------------------------------------------------------------


@endpoint(
    "/posts/<int:post_id>/reactions",
    "GET",
    summary="A post's reactions: counts per emoji, and which the caller gave",
    auth="anyone",
    response=shapes.Reactions,
)
def list_post_reactions(post_id: int):
    from ..board import service as board

    post = board.visible_post(post_id, viewer=acting_user())
    return dump_reactions(service.reactions_of([post.id], acting_user())[post.id])


@endpoint(
    "/posts/<int:post_id>/reactions/<reaction>",
    "POST",
    summary="React to a post with one of the fixed emoji, by name: thumbsup, laugh, wow, "
    "thanks, party, eyes",
    status=201,
    errors=(403, 409, 422),
    response=shapes.Reactions,
)
def add_post_reaction(post_id: int, reaction: str):
    return dump_reactions(service.add_reaction(acting_user(), post_id, reaction))


@endpoint(
    "/posts/<int:post_id>/reactions/<reaction>",
    "DELETE",
    summary="Take back your reaction",
    errors=(403, 422),
    response=shapes.Reactions,
)
def remove_post_reaction(post_id: int, reaction: str):
    return dump_reactions(service.remove_reaction(acting_user(), post_id, reaction))


# --- bookmarks ---------------------------------------------------------------------


@endpoint(
    "/bookmarks",
    "GET",
    summary="Your bookmarks, newest first",
    query=PAGE,
    errors=(403,),
    response=shapes.BookmarkPage,
)
def list_my_bookmarks():
    cursor, limit = _page_args()
    page = service.list_bookmarks(acting_user(), cursor, limit)
    return {"items": [dump_bookmark(b) for b in page.items], "next_cursor": page.next_cursor}


@endpoint(
    "/bookmarks",
    "POST",
    summary="Bookmark a post (`post_id`) or a thread (`thread_id`)",
    body=BookmarkBody,
    status=201,
    errors=(403, 404, 409),
    response=shapes.Bookmark,
)
def add_my_bookmark(data: BookmarkBody):
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


@endpoint(
    "/bookmarks/<int:bookmark_id>",
    "DELETE",
    summary="Remove one of your bookmarks",
    status=204,
    errors=(403,),
)
def delete_my_bookmark(bookmark_id: int):
    service.remove_bookmark(acting_user(), bookmark_id)


# --- drafts ------------------------------------------------------------------------


@endpoint(
    "/drafts",
    "GET",
    summary="Your drafts, most recently started first",
    query=PAGE,
    errors=(403,),
    response=shapes.DraftPage,
)
def list_my_drafts():
    cursor, limit = _page_args()
    page = service.list_drafts(acting_user(), cursor, limit)
    return {"items": [dump_draft(d) for d in page.items], "next_cursor": page.next_cursor}


@endpoint(
    "/drafts/threads/<int:thread_id>",
    "GET",
    summary="Your draft reply in a thread",
    errors=(403,),
    response=shapes.Draft,
)
def get_thread_draft(thread_id: int):
    return dump_draft(service.get_draft(acting_user(), thread_id=thread_id))


@endpoint(
    "/drafts/threads/<int:thread_id>",
    "PUT",
    summary="Save your draft reply in a thread (an empty body deletes it; 409 draft_posted "
    "when you posted there after opened_at)",
    body=DraftBody,
    errors=(403, 409),
    response=shapes.Draft,
)
def put_thread_draft(thread_id: int, data: DraftBody):
    return dump_draft(
        service.save_draft(acting_user(), data.body, thread_id=thread_id, opened_at=data.opened_at)
    )


@endpoint(
    "/drafts/threads/<int:thread_id>",
    "DELETE",
    summary="Discard your draft reply in a thread",
    status=204,
    errors=(403,),
)
def delete_thread_draft(thread_id: int):
    service.discard_draft(acting_user(), thread_id=thread_id)


@endpoint(
    "/drafts/categories/<slug>",
    "GET",
    summary="Your draft of a new thread in a category",
    errors=(403,),
    response=shapes.Draft,
)
def get_category_draft(slug: str):
    return dump_draft(service.get_draft(acting_user(), category=slug))


@endpoint(
    "/drafts/categories/<slug>",
    "PUT",
    summary="Save your draft of a new thread in a category (title and body; 409 "
    "draft_posted when you opened a thread there after opened_at)",
    body=DraftBody,
    errors=(403, 409),
    response=shapes.Draft,
)
def put_category_draft(slug: str, data: DraftBody):
    return dump_draft(
        service.save_draft(
            acting_user(), data.body, title=data.title, category=slug, opened_at=data.opened_at
        )
    )


@endpoint(
    "/drafts/categories/<slug>",
    "DELETE",
    summary="Discard your draft of a new thread in a category",
    status=204,
    errors=(403,),
)
def delete_category_draft(slug: str):
    service.discard_draft(acting_user(), category=slug)


# --- user cards --------------------------------------------------------------------


@endpoint(
    "/users/<username>/card",
    "GET",
    summary="A member's card: avatar, trust level, tier, joined, whether you may message them",
    auth="anyone",
    response=shapes.UserCard,
)
def get_user_card(username: str):
    return dump_card(service.user_card(username, viewer=acting_user()))
