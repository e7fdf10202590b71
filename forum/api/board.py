from flask import request

from ..board import service
from ..board.schemas import (
    CategoryBody,
    EditBody,
    LevelBody,
    PostBody,
    ReadBody,
    ThreadBody,
    TitleBody,
    dump_category,
    dump_listed_thread,
    dump_post,
    dump_read_mark,
    dump_thread_summary,
)
from ..errors import field_error
from ..permissions import acting_user as _user
from ..reviews import service as reviews
from ..schemas import ReasonBody
from . import bp, responses
from .core import PAGE, endpoints, page_args

endpoint = endpoints(bp, tag="board")


@endpoint("/categories", "GET", auth="anyone", response=list[responses.Category])
def list_categories():
    """List categories"""
    return [dump_category(c) for c in service.list_categories(_user())]


@endpoint(
    "/categories",
    "POST",
    auth="admin",
    body=CategoryBody,
    status=201,
    errors=(409,),
    response=responses.Category,
)
def create_category(data: CategoryBody):
    """Create a category"""
    return dump_category(service.create_category(_user(), data.slug, data.name, data.description))


@endpoint(
    "/categories/<slug>/threads", "GET", auth="anyone", query=PAGE, response=responses.ThreadPage
)
def category_threads(slug: str):
    """Threads of a category, pinned first"""
    category = service.get_category(slug, _user())
    page = service.list_threads(
        category,
        **page_args(),
        viewer=_user(),
    )
    return page.dump(dump_thread_summary)


@endpoint(
    "/threads",
    "POST",
    body=ThreadBody,
    status=201,
    errors=(404, 409, 429),
    response=responses.NewThread,
)
def create_thread(data: ThreadBody):
    """Start a thread (an experience report, with order_item_id, in a report category)"""
    category = service.get_category(data.category, _user())
    # In a category marked for experience reports the thread is a report, by the reviews
    # path and its rules: order_item_id names the author's completed purchase (403
    # not_a_buyer, order_not_completed, order_refunded, merchant_cannot_review,
    # shared_address; 409 already_reported; 422 without it).
    if category.experience_reports:
        report = reviews.create_report(
            _user(), category, order_item_id=data.order_item_id, title=data.title, body=data.body
        )
        thread = service.get_thread(report.thread_id)
    elif data.order_item_id is not None:
        raise field_error("order_item_id", "Only experience reports are tied to a purchase.")
    else:
        thread = service.create_thread(_user(), category, data.title, data.body)
    return {
        "id": thread.id,
        "title": thread.title,
        "category": category.slug,
        "first_post": dump_post(service.first_post(thread)),
    }


@endpoint("/threads/<int:thread_id>", "GET", auth="anyone", query=PAGE, response=responses.Thread)
def get_thread(thread_id: int):
    """A thread and a page of its posts"""
    thread = service.get_thread(thread_id, viewer=_user())
    page = service.posts_after(
        thread,
        **page_args(),
        viewer=_user(),
    )
    return {
        **dump_thread_summary(thread),
        "posts": page.dump(dump_post),
    }


@endpoint(
    "/threads/<int:thread_id>",
    "PATCH",
    body=TitleBody,
    errors=(409,),
    response=responses.ThreadSummary,
)
def rename_thread(thread_id: int, data: TitleBody):
    """Rename a thread (author, or a moderator with a reason; the old title is kept)"""
    thread = service.get_thread(thread_id, viewer=_user())
    return dump_thread_summary(service.rename_thread(_user(), thread, data.title, data.reason))


@endpoint(
    "/threads/<int:thread_id>/posts",
    "POST",
    body=PostBody,
    status=201,
    errors=(429,),
    response=responses.Post,
)
def create_post(thread_id: int, data: PostBody):
    """Reply to a thread"""
    thread = service.get_thread(thread_id, viewer=_user())
    return dump_post(service.reply(_user(), thread, data.body, reply_to_id=data.reply_to))


@endpoint("/posts/<int:post_id>", "PATCH", body=EditBody, errors=(409,), response=responses.Post)
def edit_post(post_id: int, data: EditBody):
    """Edit a post (a revision is kept)"""
    post = service.post_to_change(post_id, _user())
    return dump_post(service.edit_post(_user(), post, data.body))


@endpoint("/posts/<int:post_id>", "DELETE", body=ReasonBody, errors=(409,))
def delete_post(post_id: int, data: ReasonBody):
    """Soft-delete a post (a moderator deleting another's post gives a reason)"""
    post = service.post_to_change(post_id, _user())
    service.delete_post(_user(), post, data.reason)


def _like(name: str, method: str, summary: str, errors: tuple[int, ...], change):
    """``/posts/<post_id>/like``: liking and unliking a visible post answer its count."""

    def handler(post_id: int):
        post = service.visible_post(post_id, viewer=_user())
        return {"like_count": change(_user(), post)}

    handler.__name__ = handler.__qualname__ = name
    return endpoint(
        "/posts/<int:post_id>/like",
        method,
        summary=summary,
        errors=errors,
        response=responses.Likes,
    )(handler)


like_post = _like("like_post", "POST", "Like a post", (409,), service.like)
unlike_post = _like("unlike_post", "DELETE", "Remove your like", (), service.unlike)


@endpoint(
    "/threads",
    "GET",
    auth="anyone",
    errors=(404,),
    query=(
        ("view", {"type": "string", "enum": list(service.VIEWS), "default": "latest"}),
        ("period", {"type": "string", "enum": list(service.PERIODS), "default": "week"}),
        ("category", {"type": "string"}),
        *PAGE,
    ),
    response=responses.ListedThreadPage,
)
def list_threads():
    """Latest, new, unread or top threads (of one category or all)"""
    slug = request.args.get("category")
    shown = service.listing(
        request.args,
        service.get_category(slug, _user()) if slug else None,
        viewer=_user(),
        default_limit=20,
    )
    return {
        "items": [dump_listed_thread(t, shown.states.get(t.id)) for t in shown.page.items],
        "next_cursor": shown.page.next_cursor,
    }


@endpoint("/threads/<int:thread_id>/read", "POST", body=ReadBody, response=responses.ReadMark)
def mark_thread_read(thread_id: int, data: ReadBody):
    """Mark a thread read up to a post position (never moves back)"""
    thread = service.get_thread(thread_id, viewer=_user())
    mark = service.mark_read(_user(), thread, data.position)
    return dump_read_mark(thread, mark)


def _level(name: str, rule: str, what: str, target, set_level):
    """``PUT <rule>/notification-level``: a thread and a category take the same body
    and answer the level set; ``target`` finds the one the caller may see."""

    def handler(data: LevelBody, **key):
        return {"level": set_level(_user(), target(**key), data.level)}

    handler.__name__ = handler.__qualname__ = name
    return endpoint(
        f"{rule}/notification-level",
        "PUT",
        summary=f"Set your notification level for a {what}",
        body=LevelBody,
        response=responses.NotificationLevel,
    )(handler)


set_thread_level = _level(
    "set_thread_level",
    "/threads/<int:thread_id>",
    "thread",
    lambda thread_id: service.get_thread(thread_id, viewer=_user()),
    service.set_thread_level,
)
set_category_level = _level(
    "set_category_level",
    "/categories/<slug>",
    "category",
    lambda slug: service.get_category(slug, _user()),
    service.set_category_level,
)
