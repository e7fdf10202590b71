"""HTML entry points: react to a post and bookmark things with plain forms (answered
with JSON when a script asks), the bookmarks page, and the user card fragment."""

from flask import (
    Blueprint,
    Flask,
    abort,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from ..clock import now
from ..errors import ServiceError
from ..extensions import db
from ..pagination import limit_from
from ..permissions import acting_user, is_member
from ..schemas import iso
from ..web import safe_referrer
from . import service
from .schemas import dump_reactions


def add_template_helpers(app: Flask) -> None:
    """``social_for(posts)``: the reactions and bookmarks of a page of posts, asked once
    per page (the post partial asks with the page's posts and is answered from ``g``);
    ``draft_for(thread=|category=)``: what the composer restores and where it saves."""
    app.add_template_global(social_for)
    app.add_template_global(draft_for)
    app.add_template_global(thread_bookmarked)
    app.jinja_env.globals["REACTIONS"] = service.REACTIONS


class PageSocial:
    def __init__(self, post_ids: list[int], viewer) -> None:
        self.reactions = service.reactions_of(post_ids, viewer)
        self.bookmarked = service.bookmarked_ids(viewer, "post", post_ids)


def social_for(posts) -> PageSocial:
    from flask import g

    ids = tuple(sorted(p.id for p in posts))
    cache = g.setdefault("social_pages", {})
    if ids not in cache:
        cache[ids] = PageSocial(list(ids), acting_user())
    return cache[ids]


def thread_bookmarked(thread) -> bool:
    return thread.id in service.bookmarked_ids(acting_user(), "thread", [thread.id])


def draft_for(*, thread=None, category=None) -> dict | None:
    """The viewer's draft for the thread (or for a new thread in the category) and the
    API address the composer saves it to; None for visitors."""
    viewer = acting_user()
    if not is_member(viewer):
        return None
    if thread is not None:
        found = service.find_draft(viewer, thread_id=thread.id)
        url = url_for("api.put_thread_draft", thread_id=thread.id)
    else:
        found = service.find_draft(viewer, category=category.slug)
        url = url_for("api.put_category_draft", slug=category.slug)
    return {
        "url": url,
        "body": found.body if found else "",
        "title": found.title if found else "",
        # Autosaves carry it back: one opened before a post there is refused.
        "opened_at": iso(now()),
    }


bp = Blueprint("social", __name__)


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


@bp.post("/p/<int:post_id>/react")
@login_required
def react(post_id: int):
    """Toggle one reaction (form field ``reaction``)."""
    reactions = service.toggle_reaction(
        current_user._get_current_object(), post_id, request.form.get("reaction")
    )
    db.session.commit()
    if _wants_json():
        return jsonify(dump_reactions(reactions))
    return redirect(url_for("board.goto_post", post_id=post_id))


@bp.post("/bookmarks/toggle")
@login_required
def toggle_bookmark():
    """Bookmark a post or thread (form fields ``kind``, ``id``), or remove that bookmark."""
    kind = request.form.get("kind", "")
    try:
        target_id = int(request.form.get("id", ""))
    except ValueError:
        abort(400)
    if kind not in service.KINDS:
        abort(400)
    bookmarked = service.toggle_bookmark(current_user._get_current_object(), kind, target_id)
    db.session.commit()
    if _wants_json():
        return jsonify({"bookmarked": bookmarked})
    return redirect(safe_referrer(url_for("social.bookmarks")))


@bp.get("/bookmarks")
@login_required
def bookmarks():
    try:
        limit = limit_from(request.args.get("limit"))
        page = service.list_bookmarks(
            current_user._get_current_object(), request.args.get("cursor"), limit
        )
    except ServiceError:
        abort(400)
    return render_template("social/bookmarks.html", page=page, limit=limit)


@bp.post("/bookmarks/<int:bookmark_id>/delete")
@login_required
def delete_bookmark(bookmark_id: int):
    service.remove_bookmark(current_user._get_current_object(), bookmark_id)
    db.session.commit()
    return redirect(url_for("social.bookmarks"))


@bp.get("/u/<username>/card")
def card(username: str):
    """The card's HTML (what the script shows on hover or tap)."""
    shown = service.user_card(username, viewer=acting_user())
    return render_template("social/_card.html", card=shown)
