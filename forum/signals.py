"""The one namespace features use to hear each other (blinker).

A feature that something happens in *sends*; features that care *connect* a receiver
in their own ``init_app(app)``, which ``create_app`` calls. Nothing connects by being
imported, so what listens to what is read in one place per feature.

Two kinds of signal live here:

- **Happenings** (``order_changed``, ``signup_made`` ...): sent inside the sender's
  transaction, after its own rows are written. A receiver writes in the same
  transaction; one that must never break the sender (attribution) wraps its work in a
  savepoint and logs failures. A receiver that raises ``ServiceError`` refuses the
  change, and the sender's caller rolls back.
- **Questions** (who may watch a ``kind:...`` room, which widget renders a kind): sent
  with the *kind* as the sender, so only the feature that owns that kind answers;
  :func:`ask` returns its answer. They replace registries keyed by kind.

Receivers are module-level functions (blinker holds weak references, which keep
module functions alive) and connecting one twice has no effect, which matters because
tests build many apps in one process.
"""

from typing import Any

from blinker import Namespace, Signal

plaza = Namespace()

# --- accounts ---------------------------------------------------------------------------
#: ``user_registered.send(user)``: a new account exists (in its transaction).
user_registered = plaza.signal("user-registered")
#: ``user_sessions_ended.send(user_id=...)``: logout, password change or suspension;
#: sent after commit; every namespace closes that user's sockets in every process.
#: Sender: ``forum.realtime`` (queued by ``realtime.disconnect_user``), once the user's
#: ``user:ID`` rooms are closed. Receivers: chat (closes the sockets it tracks).
user_sessions_ended = plaza.signal("user-sessions-ended")
#: ``profile_shown.send(user, viewer=...)``: a question while a profile page renders;
#: each feature answers an ``accounts.views.ProfileStat`` (a line on the profile) or None.
profile_shown = plaza.signal("profile-shown")
#: Question ``ask(user_for_token, "bearer", token="...")`` -> User | None: who an API
#: token belongs to. Asked by ``forum.sockets.connect_user`` (``auth={"token": ...}``);
#: answered by accounts.
user_for_token = plaza.signal("user-for-token")

# --- live (forum.live, the /live namespace) ------------------------------------------------
#: Question ``ask(room_watch_allowed, kind, user=user | None, rest="...")`` -> bool:
#: may ``user`` watch the room ``<kind>:<rest>``? Asked by ``live.may_watch``; the
#: feature owning the kind answers (board: thread, events: event, shop: offer). A kind
#: nobody answers is refused.
room_watch_allowed = plaza.signal("room-watch-allowed")
#: Question ``ask(offer_watch_allowed, offer_kind, user=..., ident=int)`` -> bool, for
#: ``offer:<offer_kind>:<id>`` rooms (asked by the shop's "offer" answer): shop answers
#: ``product``, promotions ``groupbuy``, ``team`` and ``snap``.
offer_watch_allowed = plaza.signal("offer-watch-allowed")

# --- board ------------------------------------------------------------------------------
#: ``post_created.send(post, thread=...)``: a post (or a thread's first post) was written.
post_created = plaza.signal("post-created")

# --- shop -------------------------------------------------------------------------------
#: ``order_changed.send(order, event=OrderEvent)``: every event an order records
#: (placed, paid, shipped, completed, cancelled, expired, refunded, source_set ...).
order_changed = plaza.signal("order-changed")

# --- promotions -------------------------------------------------------------------------
#: ``team_joined.send(team, member=..., order=...)``: someone started or joined a team.
team_joined = plaza.signal("team-joined")
#: ``team_settled.send(team, status="succeeded" | "failed")``.
team_settled = plaza.signal("team-settled")

# --- events -----------------------------------------------------------------------------
#: ``signup_made.send(signup, event=..., user=...)``: a new confirmed or waitlisted sign-up.
signup_made = plaza.signal("signup-made")
#: ``signup_released.send(signup, event=..., status=...)``: cancelled or removed.
signup_released = plaza.signal("signup-released")


def ask(signal: Signal, sender: Any, **kwargs: Any) -> Any:
    """Send a question signal and return the first answer that is not None (or None).

    Only receivers connected for ``sender`` (or for any sender) answer, so a kind
    nobody owns answers None.
    """
    for _receiver, answer in signal.send(sender, **kwargs):
        if answer is not None:
            return answer
    return None
