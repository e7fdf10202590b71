"""Drafts: what a member is writing, saved on the server while they type (the composer
autosaves with a debounce), so a closed tab or a reload loses nothing.

One draft per member and place: a reply in a thread (``thread:<id>``) or a new thread in
a category (``category:<id>``, with its title). Saving is one upsert on that unique key,
so two tabs saving at once leave one row holding the last text. Posting there empties it
and stamps ``posted_at`` (``on_post_created``, the board's ``post_created`` signal, in
the poster's transaction): a blank row is no draft, only that mark.

The mark closes a race: an autosave still in flight when the member posts lands after
the post and would bring the draft back. The composer sends ``opened_at`` (the server's
time when it rendered the page); a save opened before the place's ``posted_at`` is
refused (Conflict ``draft_posted``) inside the same upsert statement, so the post and
the save serialize on the row's unique key whichever commits first. Marks older than
``MARK_KEPT`` are pruned when the member next posts.
"""

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, delete, or_, select, update

from ...board import service as board
from ...clock import now
from ...database import dialect_insert
from ...errors import Conflict, NotFound, field_error
from ...extensions import db
from ...pagination import Page, after_id, encode, keyset_page
from ...permissions import check_member
from ..models import Draft

TITLE_MAX = board.TITLE_MAX
MARK_KEPT = timedelta(days=1)  # an in-flight save arrives within seconds; a stale tab, later


class DraftPosted(
    Conflict,
    code="draft_posted",
    message="You have posted here since this page was opened; reload it to write more.",
):
    """A late autosave: the composer was opened before the member's post there."""


def _has_text():
    return or_(Draft.body != "", Draft.title != "")


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
    user,
    body: str,
    *,
    title: str = "",
    thread_id: int | None = None,
    category: str | None = None,
    opened_at: datetime | None = None,
) -> Draft:
    """Keep ``body`` (and, for a new thread, ``title``) as ``user``'s draft for that
    thread or category (its slug). An empty draft is discarded instead (returns the
    unsaved row). ``opened_at``: when the composer was opened (server time); DraftPosted
    when the member has posted there since, and nothing is written. NotFound for a place
    the member cannot read, ValidationFailed for text over the post limit."""
    place, where = _place(user, thread_id=thread_id, category=category)
    title, body = _check_text(title, body)
    if not body.strip() and not title.strip():
        discard_draft(user, thread_id=thread_id, category=category)
        return Draft(user_id=user.id, place=place, title="", body="", **where)
    at = now()
    statement = dialect_insert(Draft).values(
        user_id=user.id, place=place, title=title, body=body, created_at=at, updated_at=at, **where
    )
    late = None
    if opened_at is not None:
        # Evaluated on the row as committed, after any post holding it (PostgreSQL waits).
        late = or_(Draft.posted_at.is_(None), Draft.posted_at <= opened_at)
    saved = db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["user_id", "place"],
            set_={"title": title, "body": body, "updated_at": at},
            where=late,
        ).returning(Draft.id)
    ).scalar()
    if saved is None:
        raise DraftPosted()
    draft = db.session.get(Draft, saved, populate_existing=True)
    assert draft is not None
    return draft


def find_draft(user, *, thread_id: int | None = None, category: str | None = None) -> Draft | None:
    """``user``'s draft for that place, None when there is none (only ever their own)."""
    place, _where = _place(user, thread_id=thread_id, category=category)
    return db.session.scalar(
        select(Draft).where(Draft.user_id == user.id, Draft.place == place, _has_text())
    )


def get_draft(user, *, thread_id: int | None = None, category: str | None = None) -> Draft:
    draft = find_draft(user, thread_id=thread_id, category=category)
    if draft is None:
        raise NotFound("No draft there.")
    return draft


def discard_draft(user, *, thread_id: int | None = None, category: str | None = None) -> None:
    """Forget the draft; a place posted in keeps its blank mark (see the module)."""
    place, _where = _place(user, thread_id=thread_id, category=category)
    mine = and_(Draft.user_id == user.id, Draft.place == place)
    db.session.execute(delete(Draft).where(mine, Draft.posted_at.is_(None)))
    db.session.execute(
        update(Draft)
        .where(mine, Draft.posted_at.is_not(None), _has_text())
        .values(title="", body="", updated_at=now())
    )


def list_drafts(user, cursor: str | None = None, limit: int = 20) -> Page[Draft]:
    """``user``'s drafts, most recently created first, keyset-paged by id."""
    check_member(user)
    query = select(Draft).where(Draft.user_id == user.id, _has_text())
    if (after := after_id(cursor)) is not None:
        query = query.where(Draft.id < after)
    rows = db.session.scalars(query.order_by(Draft.id.desc()).limit(limit + 1)).all()
    return keyset_page(rows, limit, lambda d: encode([d.id]))


def on_post_created(post, thread=None, **_extra) -> None:
    """The author posted: their draft for that thread (and, for an opening post, for a
    new thread in its category) is done with: emptied and marked posted, so a save
    opened before this post cannot bring it back. Their marks older than MARK_KEPT go."""
    thread = thread or post.thread
    at = now()
    places = [(f"thread:{thread.id}", {"thread_id": thread.id, "category_id": None})]
    if post.position == 1:
        places.append(
            (
                f"category:{thread.category_id}",
                {"thread_id": None, "category_id": thread.category_id},
            )
        )
    db.session.execute(
        delete(Draft).where(
            Draft.user_id == post.author_id,
            Draft.posted_at < at - MARK_KEPT,
            Draft.body == "",
            Draft.title == "",
        )
    )
    for place, where in places:
        blank = {"title": "", "body": "", "updated_at": at, "posted_at": at}
        statement = dialect_insert(Draft).values(
            user_id=post.author_id, place=place, created_at=at, **blank, **where
        )
        db.session.execute(
            statement.on_conflict_do_update(index_elements=["user_id", "place"], set_=blank)
        )
