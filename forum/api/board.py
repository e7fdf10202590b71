from flask import request, url_for

from ..board import service
from ..board.schemas import (
    CategoryBody,
    EditBody,
    LevelBody,
    PostBody,
    ReadBody,
    ThreadBody,
    dump_category,
    dump_listed_thread,
    dump_post,
    dump_read_mark,
    dump_thread_summary,
)
from ..pagination import limit_from
from ..permissions import acting_user as _user
from ..reviews import service as reviews
from . import bp, responses
from .core import endpoint

PAGE = ("cursor", "limit")


@endpoint(
    bp,
    "/categories",
    "GET",
    summary="List categories",
    auth="anyone",
    tag="board",
    response=list[responses.Category],
)
def list_categories():
    return [dump_category(c) for c in service.list_categories()]


@endpoint(
    bp,
    "/categories",
    "POST",
    summary="Create a category",
    auth="admin",
    body=CategoryBody,
    status=201,
    errors=(409, 422),
    tag="board",
    response=responses.Category,
)
def create_category(data: CategoryBody):
    return dump_category(service.create_category(_user(), data.slug, data.name, data.description))


@endpoint(
    bp,
    "/categories/<slug>/threads",
    "GET",
    summary="Threads of a category, pinned first",
    auth="anyone",
    errors=(400, 404, 422),
    query=PAGE,
    tag="board",
    response=responses.ThreadPage,
)
def category_threads(slug: str):
    category = service.get_category(slug)
    page = service.list_threads(
        category,
        cursor=request.args.get("cursor"),
        limit=limit_from(request.args.get("limit")),
        viewer=_user(),
    )
    return {"items": [dump_thread_summary(t) for t in page.items], "next_cursor": page.next_cursor}


@endpoint(
    bp,
    "/threads",
    "POST",
    summary="Start a thread",
    body=ThreadBody,
    status=201,
    errors=(404, 422, 429),
    tag="board",
    response=responses.NewThread,
)
def create_thread(data: ThreadBody):
    category = service.get_category(data.category)
    thread = service.create_thread(_user(), category, data.title, data.body)
    return {
        "id": thread.id,
        "title": thread.title,
        "category": category.slug,
        "first_post": dump_post(service.first_post(thread)),
    }


@endpoint(
    bp,
    "/threads/<int:thread_id>",
    "GET",
    summary="A thread and a page of its posts",
    auth="anyone",
    errors=(400, 404, 422),
    query=PAGE,
    tag="board",
    response=responses.Thread,
)
def get_thread(thread_id: int):
    thread = service.get_thread(thread_id, viewer=_user())
    page = service.posts_after(
        thread,
        cursor=request.args.get("cursor"),
        limit=limit_from(request.args.get("limit")),
        viewer=_user(),
    )
    return {
        **dump_thread_summary(thread),
        "posts": {"items": [dump_post(p) for p in page.items], "next_cursor": page.next_cursor},
    }


@endpoint(
    bp,
    "/threads/<int:thread_id>/posts",
    "POST",
    summary="Reply to a thread",
    body=PostBody,
    status=201,
    errors=(403, 404, 422, 429),
    tag="board",
    response=responses.Post,
)
def create_post(thread_id: int, data: PostBody):
    thread = service.get_thread(thread_id, viewer=_user())
    return dump_post(service.reply(_user(), thread, data.body, reply_to_id=data.reply_to))


@endpoint(
    bp,
    "/posts/<int:post_id>",
    "PATCH",
    summary="Edit a post (a revision is kept)",
    body=EditBody,
    errors=(403, 404, 409, 422),
    tag="board",
    response=responses.Post,
)
def edit_post(post_id: int, data: EditBody):
    post = service.post_to_change(post_id, _user())
    return dump_post(service.edit_post(_user(), post, data.body))


@endpoint(
    bp,
    "/posts/<int:post_id>",
    "DELETE",
    summary="Soft-delete a post",
    status=204,
    errors=(403, 404, 409),
    tag="board",
)
def delete_post(post_id: int):
    post = service.post_to_change(post_id, _user())
    service.delete_post(_user(), post)


@endpoint(
    bp,
    "/posts/<int:post_id>/like",
    "POST",
    summary="Like a post",
    errors=(404, 409),
    tag="board",
    response=responses.Likes,
)
def like_post(post_id: int):
    post = service.visible_post(post_id, viewer=_user())
    return {"like_count": service.like(_user(), post)}


@endpoint(
    bp,
    "/posts/<int:post_id>/like",
    "DELETE",
    summary="Remove your like",
    tag="board",
    errors=(404,),
    response=responses.Likes,
)
def unlike_post(post_id: int):
    post = service.visible_post(post_id, viewer=_user())
    return {"like_count": service.unlike(_user(), post)}


@endpoint(
    bp,
    "/search",
    "GET",
    summary="Full-text search over threads and posts",
    auth="anyone",
    errors=(400, 422),
    query=("q", *PAGE),
    tag="board",
    response=responses.SearchPage,
)
def search():
    q = request.args.get("q", "")
    limit = limit_from(request.args.get("limit"))
    cursor = request.args.get("cursor")
    # The first page starts with products whose reviews match (forum.reviews), then posts.
    products = reviews.search_products(q, limit=min(3, limit // 2)) if not cursor else []
    page = service.search(q, cursor=cursor, limit=limit - len(products), viewer=_user())
    return {
        "items": [
            {
                "type": "product",
                "id": product.id,
                "name": product.name,
                "url": url_for("shop_embed.product", product_id=product.id),
                "snippet": reviews.marked_snippet(f"{review.title}: {review.body}", q),
                "rating_avg": product.rating_avg,
                "rating_count": product.rating_count,
            }
            for product, review in products
        ]
        + [
            {"type": "post", "thread": {"id": p.thread.id, "title": p.thread.title}, **dump_post(p)}
            for p in page.items
        ],
        "next_cursor": page.next_cursor,
    }


@endpoint(
    bp,
    "/threads",
    "GET",
    summary="Latest, new, unread or top threads (of one category or all)",
    auth="anyone",
    errors=(400, 404, 422),
    query=(
        ("view", {"type": "string", "enum": list(service.VIEWS), "default": "latest"}),
        ("period", {"type": "string", "enum": list(service.PERIODS), "default": "week"}),
        ("category", {"type": "string"}),
        *PAGE,
    ),
    tag="board",
    response=responses.ListedThreadPage,
)
def list_threads():
    slug = request.args.get("category")
    shown = service.listing(
        request.args, service.get_category(slug) if slug else None, viewer=_user(), default_limit=20
    )
    return {
        "items": [dump_listed_thread(t, shown.states.get(t.id)) for t in shown.page.items],
        "next_cursor": shown.page.next_cursor,
    }


@endpoint(
    bp,
    "/threads/<int:thread_id>/read",
    "POST",
    summary="Mark a thread read up to a post position (never moves back)",
    body=ReadBody,
    errors=(404, 422),
    tag="board",
    response=responses.ReadMark,
)
def mark_thread_read(thread_id: int, data: ReadBody):
    thread = service.get_thread(thread_id, viewer=_user())
    mark = service.mark_read(_user(), thread, data.position)
    return dump_read_mark(thread, mark)


@endpoint(
    bp,
    "/threads/<int:thread_id>/notification-level",
    "PUT",
    summary="Set your notification level for a thread",
    body=LevelBody,
    errors=(404, 422),
    tag="board",
    response=responses.NotificationLevel,
)
def set_thread_level(thread_id: int, data: LevelBody):
    thread = service.get_thread(thread_id, viewer=_user())
    return {"level": service.set_thread_level(_user(), thread, data.level)}


@endpoint(
    bp,
    "/categories/<slug>/notification-level",
    "PUT",
    summary="Set your notification level for a category",
    body=LevelBody,
    errors=(404, 422),
    tag="board",
    response=responses.NotificationLevel,
)
def set_category_level(slug: str, data: LevelBody):
    category = service.get_category(slug)
    return {"level": service.set_category_level(_user(), category, data.level)}
