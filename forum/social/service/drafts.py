"""Drafts: what a member is writing, saved on the server while they type (the composer
autosaves with a debounce), so a closed tab or a reload loses nothing.

One draft per member and place: a reply in a thread (``thread:<id>``) or a new thread in
a category (``category:<id>``, with its title). Saving is one upsert on that unique key,
so two tabs saving at once leave one row holding the last text. Posting there deletes it
(``on_post_created``, the board's ``post_created`` signal, in the poster's transaction).
"""

from flask import current_app
from sqlalchemy import delete, select

from ...board import service as board
from ...clock import now
from ...database import dialect_insert
from ...errors import NotFound, field_error
from ...extensions import db
from ...pagination import Page, after_id, encode, keyset_page
from ...permissions import check_member
from ..models import Draft

TITLE_MAX = board.TITLE_MAX


def _place_of_thread(user, thread_id: int) -> tuple[str, dict]:
    thread = board.get_thread(thread_id, viewer=user)  # NotFound when unreadable
    return f"thread:{thread.id}", {"thread_id": thread.id, "category_id": None}


def _place_of_category(user, slug: str) -> tuple[str, dict]:
    category = board.get_category(slug, user)  # NotFound when unreadable
    return f"category:{category.id}", {"thread_id": None, "category_id": category.id}


def _place(user, *, thread_id: int | None = None, category: str | None = None):
    check_member(user)
    if thread_id is not None:
        return _place_of_thread(user, thread_id)
    if category is not None:
        return _place_of_category(user, category)
    raise field_error("place", "Say which thread or category the draft is for.")


def _check_text(title: str, body: str) -> tuple[str, str]:
    if not isinstance(body, str):
        raise field_error("body", "The draft's text must be a string.")
    most = current_app.config["POST_MAX_LENGTH"]
    if len(body) > most:
        raise field_error("body", f"Keep it under {most:,} characters.", code="too_long")
    if not isinstance(title, str) or len(title) > TITLE_MAX:
        raise field_error("title", f"Keep the title under {TITLE_MAX} characters.")
    return title, body


def save_draft(
    user, body: str, *, title: str = "", thread_id: int | None = None, category: str | None = None
) -> Draft:
    """Keep ``body`` (and, for a new thread, ``title``) as ``user``'s draft for that
    thread or category (its slug). An empty draft is deleted instead (returns the
    unsaved row). NotFound for a place the member cannot read, ValidationFailed
    for text over the post limit; nothing is written then."""
    place, where = _place(user, thread_id=thread_id, category=category)
    title, body = _check_text(title, body)
    if not body.strip() and not title.strip():
        discard_draft(user, thread_id=thread_id, category=category)
        return Draft(user_id=user.id, place=place, title="", body="", **where)
    at = now()
    statement = dialect_insert(Draft).values(
        user_id=user.id, place=place, title=title, body=body, created_at=at, updated_at=at, **where
    )
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["user_id", "place"],
            set_={"title": title, "body": body, "updated_at": at},
        )
    )
    draft = db.session.scalar(select(Draft).where(Draft.user_id == user.id, Draft.place == place))
    assert draft is not None
    db.session.refresh(draft)
    return draft


def find_draft(user, *, thread_id: int | None = None, category: str | None = None) -> Draft | None:
    """``user``'s draft for that place, None when there is none (only ever their own)."""
    place, _where = _place(user, thread_id=thread_id, category=category)
    return db.session.scalar(select(Draft).where(Draft.user_id == user.id, Draft.place == place))


def get_draft(user, *, thread_id: int | None = None, category: str | None = None) -> Draft:
    draft = find_draft(user, thread_id=thread_id, category=category)
    if draft is None:
        raise NotFound("No draft there.")
    return draft


def discard_draft(user, *, thread_id: int | None = None, category: str | None = None) -> None:
    place, _where = _place(user, thread_id=thread_id, category=category)
    db.session.execute(delete(Draft).where(Draft.user_id == user.id, Draft.place == place))


def list_drafts(user, cursor: str | None = None, limit: int = 20) -> Page[Draft]:
    """``user``'s drafts, most recently created first, keyset-paged by id."""
    check_member(user)
    query = select(Draft).where(Draft.user_id == user.id)
    if (after := after_id(cursor)) is not None:
        query = query.where(Draft.id < after)
    rows = db.session.scalars(query.order_by(Draft.id.desc()).limit(limit + 1)).all()
    return keyset_page(rows, limit, lambda d: encode([d.id]))


def on_post_created(post, thread=None, **_extra) -> None:
    """The author posted: their draft for that thread (and, for an opening post, for a
    new thread in its category) is done with."""
    thread = thread or post.thread
    places = [f"thread:{thread.id}"]
    if post.position == 1:
        places.append(f"category:{thread.category_id}")
    db.session.execute(
        delete(Draft).where(Draft.user_id == post.author_id, Draft.place.in_(places))
    )
