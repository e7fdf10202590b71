"""Chat pages. The page works without JavaScript (forms post and redirect); with it,
static/js/chat.js sends and receives over the /chat socket instead."""

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required

from ..embeds import preload
from ..errors import ServiceError
from ..extensions import db
from ..markup import MENTION_RE
from ..permissions import acting_user as _me
from ..web import apply_service_error, form_status, run_form, safe_referrer
from . import service
from .forms import MessageForm, MuteForm, RoomForm, UsernameForm
from .schemas import message_context

bp = Blueprint("chat", __name__, url_prefix="/chat")


@bp.context_processor
def _chat_helpers() -> dict:
    return {"message_context": message_context, "mentions_me": _mentions_me}


def _mentions_me(message) -> bool:
    if not current_user.is_authenticated or message.author_id == current_user.id:
        return False
    key = current_user.username_key
    return any(name.lower() == key for name in MENTION_RE.findall(message.body or ""))


def _on_form(form, err: ServiceError) -> None:
    """Show a refusal on the form; "not found" and "not yours" stay error pages."""
    if err.status in (401, 404):
        raise err
    apply_service_error(form, err)


def _on_member_form(form, err: ServiceError) -> None:
    """Inviting and muting: "not allowed" is an error page too, not a note on the form."""
    if err.status == 403:
        raise err
    _on_form(form, err)


def _entry_for(entries, room):
    return next((entry for entry in entries if entry.room.id == room.id), None)


@bp.get("/")
@login_required
def index():
    entries = service.rooms_for(_me())
    remembered = session.get("chat_room")
    target = next((e for e in entries if e.room.slug == remembered), None) or (
        entries[0] if entries else None
    )
    if target is not None:
        return redirect(url_for("chat.room", slug=target.room.slug))
    return render_template("chat/room.html", room=None, entries=entries, **_side_forms())


def _side_forms() -> dict:
    return {"direct_form": UsernameForm(prefix="dm")}


@bp.get("/<slug>")
@login_required
def room(slug: str):
    return _render_room(service.get_room(slug, viewer=_me()))


def _render_room(room, form: MessageForm | None = None, status: int = 200, **forms):
    """The room page. It writes nothing (a GET): the page joins and marks read over the
    /chat socket (``join``, ``read``), or without JavaScript through ``POST .../read``."""
    user = _me()
    member = service.membership(room, user)
    page = service.history(room, limit=_history_page())
    messages = list(reversed(page.items))
    # A public room never opened yet: everything in it is new to this member.
    last_read = member.last_read_id if member is not None else 0
    first_unread = next(
        (m.id for m in messages if m.id > last_read and m.author_id != user.id),
        None,
    )
    session["chat_room"] = room.slug
    preload(m.body_html for m in messages)
    entries = service.rooms_for(user)
    entry = _entry_for(entries, room)
    members = service.room_members(room) if not room.is_public else []
    return render_template(
        "chat/room.html",
        room=room,
        entry=entry,
        entries=entries,
        messages=messages,
        next_cursor=page.next_cursor,
        first_unread=first_unread,
        member=member,
        members=members,
        online=service.online_users(room),
        can_moderate=service.can_moderate(user),
        can_manage=service.can_manage_members(user, room),
        form=form or MessageForm(),
        invite_form=forms.get("invite_form") or UsernameForm(prefix="invite"),
        mute_form=forms.get("mute_form") or MuteForm(prefix="mute"),
        max_length=_max_length(),
        **_side_forms(),
    ), status


def _history_page() -> int:
    return int(current_app.config["CHAT_HISTORY_PAGE"])


def _max_length() -> int:
    return int(current_app.config["CHAT_MAX_MESSAGE_LENGTH"])


@bp.post("/<slug>")
@login_required
def send(slug: str):
    """The composer without JavaScript."""
    room = service.get_room(slug, viewer=_me())
    form = MessageForm()
    if form.validate_on_submit():
        try:
            message = service.send_message(_me(), room, form.body.data)
        except ServiceError as err:
            db.session.rollback()
            _on_form(form, err)
            return _render_room(room, form=form, status=err.status)
        else:
            db.session.commit()
            return redirect(url_for("chat.room", slug=room.slug, _anchor=f"m-{message.id}"))
    return _render_room(room, form=form, status=422)


@bp.post("/<slug>/read")
@login_required
def mark_read(slug: str):
    """Join (a public room) and mark everything read: what the page does over its socket
    when it opens, for a browser without JavaScript."""
    room = service.get_room(slug, viewer=_me())
    service.join(_me(), room)
    service.mark_read(_me(), room)
    db.session.commit()
    return redirect(url_for("chat.room", slug=room.slug))


@bp.get("/<slug>/earlier")
@login_required
def earlier(slug: str):
    """A page of older messages (oldest first) for "Load earlier"; X-Next-Cursor says where to go on."""
    room = service.get_room(slug, viewer=_me())
    before = service.parse_message_id(request.args.get("before"), "before")
    page = service.history(room, before=before, limit=_history_page())
    messages = list(reversed(page.items))
    preload(m.body_html for m in messages)
    html = render_template(
        "chat/_messages.html",
        room=room,
        messages=messages,
        first_unread=None,
        can_moderate=service.can_moderate(_me()),
    )
    return html, 200, {"X-Next-Cursor": page.next_cursor or ""}


@bp.get("/<slug>/m/<int:message_id>")
@login_required
def message_fragment(slug: str, message_id: int):
    """One message with its widgets expanded, for live insertion of a message with embeds."""
    room = service.get_room(slug, viewer=_me())
    message = service.get_message(message_id, viewer=_me(), room=room)
    preload([message.body_html])
    return render_template(
        "chat/_message.html",
        room=room,
        message=message,
        previous=None,
        can_moderate=service.can_moderate(_me()),
    )


@bp.post("/<slug>/m/<int:message_id>/delete")
@login_required
def delete_message(slug: str, message_id: int):
    room = service.get_room(slug, viewer=_me())
    message = service.get_message(message_id, viewer=_me(), room=room)
    service.delete_message(_me(), message, request.form.get("reason", ""))
    db.session.commit()
    flash("Message deleted.", "success")
    return redirect(url_for("chat.room", slug=room.slug))


@bp.post("/<slug>/mute")
@login_required
def mute(slug: str):
    room = service.get_room(slug, viewer=_me())
    form = MuteForm(prefix="mute")

    def mute_named():
        target = service.find_user(form.username.data)
        service.mute(_me(), room, target, form.minutes.data, form.reason.data or "")
        return target

    done = run_form(form, mute_named, show_error=_on_member_form)
    muted = f"{{}} is muted here for {form.minutes.data} minutes."
    return _member_form_result(room, form, done, "mute_form", muted)


def _member_form_result(room, form, done, slot: str, message: str):
    """After a form that names a member: flash ``message`` (``{}`` is their username) and
    go back to the room, or show the room again with this form (in ``slot``) and its errors."""
    if done:
        flash(message.format(done.value.username), "success")
        return redirect(url_for("chat.room", slug=room.slug))
    return _render_room(room, status=422, **{slot: form})


def _room_and_named_member(slug: str):
    """The room (404 unless the caller may see it) and the member the form names (404)."""
    return service.get_room(slug, viewer=_me()), service.find_user(request.form.get("username", ""))


@bp.post("/<slug>/unmute")
@login_required
def unmute(slug: str):
    room, target = _room_and_named_member(slug)
    service.unmute(_me(), room, target, request.form.get("reason", ""))
    db.session.commit()
    flash(f"{target.username} can post here again.", "success")
    return redirect(url_for("chat.room", slug=room.slug))


@bp.post("/<slug>/invite")
@login_required
def invite(slug: str):
    room = service.get_room(slug, viewer=_me())
    form = UsernameForm(prefix="invite")
    done = run_form(
        form, lambda: service.invite(_me(), room, form.username.data), show_error=_on_member_form
    )
    return _member_form_result(room, form, done, "invite_form", "{} was added to the room.")


@bp.post("/<slug>/remove")
@login_required
def remove(slug: str):
    room, target = _room_and_named_member(slug)
    service.remove_member(_me(), room, target)
    db.session.commit()
    if target.id == current_user.id:
        session.pop("chat_room", None)
        flash(f"You left “{room.name}”.", "info")
        return redirect(url_for("chat.index"))
    flash(f"{target.username} was removed from the room.", "info")
    return redirect(url_for("chat.room", slug=room.slug))


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new_room():
    form = RoomForm()

    def create():
        if form.public.data:
            return service.create_public_room(
                _me(), form.slug.data or "", form.name.data, form.topic.data or ""
            )
        names = [n for n in (form.members.data or "").replace(",", " ").split() if n]
        return service.create_private_room(_me(), form.name.data, names, form.topic.data or "")

    done = run_form(form, create)
    if done:
        return redirect(url_for("chat.room", slug=done.value.slug))
    return render_template(
        "chat/new.html", form=form, can_moderate=service.can_moderate(_me())
    ), form_status(form)


@bp.post("/dm")
@login_required
def direct():
    form = UsernameForm(prefix="dm")
    if form.validate_on_submit():
        try:
            other = service.find_user(form.username.data)
            created = service.open_direct(_me(), other)
        except ServiceError as err:
            db.session.rollback()
            flash(err.message if err.status != 404 else "No member with that name.", "error")
        else:
            db.session.commit()
            return redirect(url_for("chat.room", slug=created.slug))
    else:
        flash("Type the name of the member to message.", "error")
    return redirect(safe_referrer(url_for("chat.index")))


@bp.post("/dm/<username>")
@login_required
def direct_to(username: str):
    """Start (or reopen) a direct conversation, e.g. from a profile's "Message" button."""
    other = service.find_user(username)
    created = service.open_direct(_me(), other)
    db.session.commit()
    return redirect(url_for("chat.room", slug=created.slug))
