"""Reactions on posts, bookmarks, and drafts kept while a member composes."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..database import PrimaryKey, StampedNow
from ..extensions import db


class PostReaction(db.Model):
    """One member's one reaction (a name from ``service.REACTIONS``) on one post.

    Counts are read with GROUP BY over this table, so there is no counter to lose an
    update; the unique key makes a double click or two tabs one reaction.
    """

    __tablename__ = "post_reactions"
    __table_args__ = (
        UniqueConstraint("post_id", "user_id", "reaction", name="uq_post_reactions_once"),
    )

    id: Mapped[PrimaryKey]
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    reaction: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[StampedNow]


class Bookmark(db.Model):
    """A member's bookmark of a post or a thread (``kind``), listed newest first."""

    __tablename__ = "bookmarks"
    __table_args__ = (
        UniqueConstraint("user_id", "kind", "target_id", name="uq_bookmarks_once"),
        # The list page: a member's bookmarks, newest first, read off the index.
        Index("ix_bookmarks_user_recent", "user_id", "id"),
    )

    id: Mapped[PrimaryKey]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))  # "post" | "thread"
    target_id: Mapped[int]
    created_at: Mapped[StampedNow]


class Draft(db.Model):
    """What a member is writing: a reply in a thread (``thread_id``) or a new thread in a
    category (``category_id``, with its title). One per member and place (``place``:
    ``thread:5`` or ``category:3``). Posting there empties it and stamps ``posted_at``
    (a blank row is no draft: it only refuses autosaves opened before the post)."""

    __tablename__ = "drafts"
    __table_args__ = (UniqueConstraint("user_id", "place", name="uq_drafts_place"),)

    id: Mapped[PrimaryKey]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    place: Mapped[str] = mapped_column(String(24))
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[StampedNow]
    updated_at: Mapped[datetime]
    posted_at: Mapped[datetime | None]  # the member's latest post here
