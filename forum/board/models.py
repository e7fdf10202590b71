from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..database import PrimaryKey, StampedNow, UTCDateTime, cascade_key
from ..extensions import db


class Category(db.Model):
    __tablename__ = "categories"

    id: Mapped[PrimaryKey]
    slug: Mapped[str] = mapped_column(String(48), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)
    thread_count: Mapped[int] = mapped_column(default=0)
    post_count: Mapped[int] = mapped_column(default=0)
    # Threads here are experience reports: each tied to one of its author's completed
    # orders (forum.reviews), with "bought this" and the product card.
    experience_reports: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Archived: still readable, closed to new threads and replies (staff excepted).
    archived: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Who may read and who may post (``board.service.access``): every rule set must hold;
    # roles and tiers are comma-separated names ("" = anyone), trust a minimum level.
    read_roles: Mapped[str] = mapped_column(String(80), default="", server_default="")
    read_tiers: Mapped[str] = mapped_column(String(80), default="", server_default="")
    read_min_trust: Mapped[int] = mapped_column(default=0, server_default="0")
    post_roles: Mapped[str] = mapped_column(String(80), default="", server_default="")
    post_tiers: Mapped[str] = mapped_column(String(80), default="", server_default="")
    post_min_trust: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[StampedNow]

    @property
    def is_restricted(self) -> bool:
        return bool(self.read_roles or self.read_tiers or self.read_min_trust)


class Thread(db.Model):
    __tablename__ = "threads"
    __table_args__ = (
        # The category listing: pinned first, then latest activity; keyset-paginated.
        Index("ix_threads_listing", "category_id", "pinned", "last_activity_at", "id"),
        Index("ix_threads_latest", "last_activity_at", "id"),
        # The front page (every category): the same order without the category.
        Index("ix_threads_front", "pinned", "last_activity_at", "id"),
    )

    id: Mapped[PrimaryKey]
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted_at: Mapped[datetime | None]
    # Number of posts ever made in the thread; also the next post's position.
    post_count: Mapped[int] = mapped_column(default=0)
    reply_count: Mapped[int] = mapped_column(default=0)
    view_count: Mapped[int] = mapped_column(default=0)
    last_activity_at: Mapped[StampedNow]
    last_post_id: Mapped[int | None]
    last_poster_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[StampedNow]

    category: Mapped[Category] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    last_poster: Mapped[User | None] = relationship(foreign_keys=[last_poster_id])

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class Post(db.Model):
    __tablename__ = "posts"
    __table_args__ = (
        # Position is unique within a thread, so page N is a range scan, not an OFFSET.
        UniqueConstraint("thread_id", "position", name="uq_posts_thread_position"),
        # A member's profile: their latest posts, newest first, read off the index
        # (author_id alone made PostgreSQL walk every post backwards by id).
        Index("ix_posts_author_recent", "author_id", "id"),
    )

    id: Mapped[PrimaryKey]
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    position: Mapped[int]
    reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"))
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    embeds: Mapped[list] = mapped_column(JSON, default=list)  # ["product:42", ...]
    like_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[StampedNow]
    edited_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # by a moderator
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    thread: Mapped[Thread] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    reply_to: Mapped["Post | None"] = relationship(remote_side="Post.id")

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None


class PostRevision(db.Model):
    """The body as it was before each edit."""

    __tablename__ = "post_revisions"

    id: Mapped[PrimaryKey]
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    editor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[StampedNow]

    editor: Mapped[User] = relationship()


class ThreadTitleRevision(db.Model):
    """The title as it was before each rename, who renamed it and why (a moderator's
    reason; empty for the author's own)."""

    __tablename__ = "thread_title_revisions"

    id: Mapped[PrimaryKey]
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"), index=True)
    editor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[StampedNow]

    editor: Mapped[User] = relationship()


class PostLike(db.Model):
    __tablename__ = "post_likes"

    post_id: Mapped[int] = cascade_key("posts.id")
    user_id: Mapped[int] = cascade_key("users.id")
    created_at: Mapped[StampedNow]


class ThreadRead(db.Model):
    """How far a member has read a thread: one row per member and thread, the highest
    post position seen. Unread replies are ``thread.post_count - last_read_position``."""

    __tablename__ = "thread_reads"

    user_id: Mapped[int] = cascade_key("users.id")
    thread_id: Mapped[int] = cascade_key("threads.id", index=True)
    last_read_position: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[StampedNow]


class ThreadWatch(db.Model):
    """A member's notification level for one thread (``watching``, ``tracking``,
    ``normal``, ``muted``); overrides the category's level."""

    __tablename__ = "thread_watches"

    user_id: Mapped[int] = cascade_key("users.id")
    thread_id: Mapped[int] = cascade_key("threads.id", index=True)
    level: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[StampedNow]


class CategoryWatch(db.Model):
    """A member's notification level for every thread of a category without its own."""

    __tablename__ = "category_watches"

    user_id: Mapped[int] = cascade_key("users.id")
    category_id: Mapped[int] = cascade_key("categories.id", index=True)
    level: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[StampedNow]
