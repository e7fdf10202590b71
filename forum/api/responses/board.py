"""Board: categories, threads, posts."""

from typing import Literal

from .shared import Cursor, Embed, Out, Timestamp, UserRef

# --- board --------------------------------------------------------------------------


class Category(Out):
    id: int
    slug: str
    name: str
    description: str


class Post(Out):
    id: int
    thread_id: int
    position: int
    author: UserRef
    body: str
    body_html: str
    like_count: int
    reply_to: int | None
    created_at: Timestamp | None
    edited_at: Timestamp | None
    embeds: list[Embed]


class ThreadSummary(Out):
    id: int
    title: str
    category: str
    author: UserRef
    pinned: bool
    locked: bool
    reply_count: int
    last_activity_at: Timestamp | None
    created_at: Timestamp | None


class ThreadPage(Out):
    items: list[ThreadSummary]
    next_cursor: Cursor


class ListedThread(ThreadSummary):
    is_new: bool
    unread_count: int


class ListedThreadPage(Out):
    items: list[ListedThread]
    next_cursor: Cursor


class NotificationLevel(Out):
    level: Literal["watching", "tracking", "normal", "muted"]


class ReadMark(Out):
    thread_id: int
    last_read_position: int
    unread_count: int


class PostPage(Out):
    items: list[Post]
    next_cursor: Cursor


class Thread(ThreadSummary):
    posts: PostPage


class NewThread(Out):
    id: int
    title: str
    category: str
    first_post: Post


class Likes(Out):
    like_count: int


class ThreadRef(Out):
    id: int
    title: str
