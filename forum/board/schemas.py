from typing import Literal

from pydantic import Field

from ..accounts.schemas import dump_user_ref
from ..embeds import EmbedContext, describe
from ..markup import EmbedRef
from ..schemas import Body, Id, ReasonBody, attrs, iso


class CategoryBody(Body):
    slug: str = Field(max_length=48)
    name: str = Field(max_length=80)
    description: str = Field(default="", max_length=500)


class ThreadBody(Body):
    category: str = Field(max_length=48)
    title: str = Field(max_length=200)
    body: str
    # In a category marked for experience reports: the completed purchase it is about.
    order_item_id: Id | None = None


class PostBody(Body):
    body: str
    reply_to: Id | None = None


class EditBody(Body):
    body: str


class TitleBody(ReasonBody):
    """A new thread title (3-200 characters, checked by the service); a moderator
    renaming someone else's thread gives a ``reason``."""

    title: str = Field(max_length=1000)


class ReadBody(Body):
    position: Id


class LevelBody(Body):
    level: Literal["watching", "tracking", "normal", "muted"]


def dump_read_mark(thread, mark) -> dict:
    return {
        "thread_id": thread.id,
        "last_read_position": mark.last_read_position,
        "unread_count": max(0, thread.post_count - mark.last_read_position),
    }


def dump_listed_thread(thread, state) -> dict:
    """A thread in a list as one member sees it: new, and how many posts are unread."""
    return {
        **dump_thread_summary(thread),
        "is_new": bool(state and state.is_new),
        "unread_count": state.unread if state else 0,
    }


def dump_category(category) -> dict:
    return {
        **attrs(category, "id", "slug", "name", "description"),
    }


def embed_refs(post) -> list[EmbedRef]:
    return [
        EmbedRef(kind, int(ident))
        for kind, _, ident in (key.partition(":") for key in post.embeds or [])
    ]


def dump_post(post) -> dict:
    context = EmbedContext("post", post.id, post.author_id)
    return {
        **attrs(post, "id", "thread_id", "position"),
        "author": dump_user_ref(post.author),
        **attrs(post, "body", "body_html", "like_count"),
        "reply_to": post.reply_to_id,
        "created_at": iso(post.created_at),
        "edited_at": iso(post.edited_at),
        "embeds": describe(embed_refs(post), context),
    }


def dump_thread_summary(thread) -> dict:
    return {
        "id": thread.id,
        "title": thread.title,
        "category": thread.category.slug,
        "author": dump_user_ref(thread.author),
        **attrs(thread, "pinned", "locked", "reply_count"),
        "last_activity_at": iso(thread.last_activity_at),
        "created_at": iso(thread.created_at),
    }
