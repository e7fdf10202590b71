from pydantic import Field

from ..accounts.schemas import dump_user_ref
from ..embeds import EmbedContext, describe
from ..markup import EmbedRef
from ..schemas import Body, Id, iso


class CategoryBody(Body):
    slug: str = Field(max_length=48)
    name: str = Field(max_length=80)
    description: str = Field(default="", max_length=500)


class ThreadBody(Body):
    category: str = Field(max_length=48)
    title: str = Field(max_length=200)
    body: str


class PostBody(Body):
    body: str
    reply_to: Id | None = None


class EditBody(Body):
    body: str


def dump_category(category) -> dict:
    return {
        "id": category.id,
        "slug": category.slug,
        "name": category.name,
        "description": category.description,
    }


def embed_refs(post) -> list[EmbedRef]:
    return [
        EmbedRef(kind, int(ident))
        for kind, _, ident in (key.partition(":") for key in post.embeds or [])
    ]


def dump_post(post) -> dict:
    context = EmbedContext("post", post.id, post.author_id)
    return {
        "id": post.id,
        "thread_id": post.thread_id,
        "position": post.position,
        "author": dump_user_ref(post.author),
        "body": post.body,
        "body_html": post.body_html,
        "like_count": post.like_count,
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
        "pinned": thread.pinned,
        "locked": thread.locked,
        "reply_count": thread.reply_count,
        "last_activity_at": iso(thread.last_activity_at),
        "created_at": iso(thread.created_at),
    }
