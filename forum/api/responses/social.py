"""Response shapes of reactions, bookmarks, drafts and user cards."""

from .shared import Cursor, Out, Timestamp


class ReactionCount(Out):
    reaction: str  # a name from the fixed set (thumbsup, laugh, wow, thanks, party, eyes)
    emoji: str
    count: int
    mine: bool  # the caller gave this one


class Reactions(Out):
    reactions: list[ReactionCount]


class Bookmark(Out):
    id: int
    kind: str  # post | thread
    target_id: int
    created_at: Timestamp
    title: str | None  # None when the post or thread is gone or no longer readable
    url: str | None
    available: bool


class BookmarkPage(Out):
    items: list[Bookmark]
    next_cursor: Cursor


class Draft(Out):
    thread_id: int | None
    category_id: int | None
    title: str
    body: str
    updated_at: Timestamp | None


class DraftPage(Out):
    items: list[Draft]
    next_cursor: Cursor


class UserCard(Out):
    id: int
    username: str
    avatar_url: str | None
    trust_level: int
    tier: str
    roles: list[str]
    joined: Timestamp
    post_count: int
    suspended: bool
    profile_url: str
    can_message: bool  # the caller may open a direct conversation with this member
