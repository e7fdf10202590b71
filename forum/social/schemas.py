"""API shapes of reactions, bookmarks, drafts and user cards."""

from pydantic import AwareDatetime, Field

from ..schemas import MAX_DB_INT, Body, attrs, iso


class BookmarkBody(Body):
    post_id: int | None = Field(default=None, ge=1, le=MAX_DB_INT)
    thread_id: int | None = Field(default=None, ge=1, le=MAX_DB_INT)


class DraftBody(Body):
    body: str = Field(max_length=100_000)  # the service applies POST_MAX_LENGTH
    title: str = Field(default="", max_length=1_000)
    # When the composer was opened (the page's data-draft-opened, server time): a save
    # opened before the member's post there is refused (409 draft_posted).
    opened_at: AwareDatetime | None = Field(default=None, strict=False)  # JSON has no dates


def dump_reactions(reactions) -> dict:
    return {
        "reactions": [
            {"reaction": r.name, "emoji": r.emoji, "count": r.count, "mine": r.mine}
            for r in reactions
        ]
    }


def dump_bookmark(listed) -> dict:
    return {
        "id": listed.id,
        "kind": listed.kind,
        "target_id": listed.target_id,
        "created_at": iso(listed.created_at),
        "title": listed.title,
        "url": listed.url,
        "available": listed.url is not None,
    }


def dump_draft(draft) -> dict:
    return {
        "thread_id": draft.thread_id,
        "category_id": draft.category_id,
        "title": draft.title or "",
        "body": draft.body or "",
        "updated_at": iso(draft.updated_at),
    }


def dump_card(card) -> dict:
    return {
        **attrs(card, "id", "username", "avatar_url", "trust_level", "tier", "roles"),
        "joined": iso(card.joined),
        **attrs(card, "post_count", "suspended", "profile_url", "can_message"),
    }
