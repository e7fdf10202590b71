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
#: each feature answers an ``accounts.service.ProfileStat`` (a line on the profile) or None.
profile_shown = plaza.signal("profile-shown")
#: Question ``ask(user_for_token, "bearer", token="...")`` -> User | None: who an API
#: token belongs to. Asked by ``forum.sockets.connect_user`` (``auth={"token": ...}``);
#: answered by accounts.
user_for_token = plaza.signal("user-for-token")
#: Question ``ask(members_named, "mention", names=[username_key, ...])`` ->
#: ``{username_key: username}`` of those that are members: asked by ``forum.markup``
#: once per rendered body, so ``@name`` links (and notifies) only a real member.
#: Answered by accounts.
members_named = plaza.signal("members-named")
#: ``email_verified.send(user)``: the member followed their verification link (sent by
#: ``campaigns.service.verify_email``). Receivers: attribution (a person's act).
email_verified = plaza.signal("email-verified")

# --- moderation -------------------------------------------------------------------------
#: Question ``ask(moderation_target, kind, target_id=int, viewer=User | None)`` ->
#: ``moderation.schemas.Target`` | None: the flaggable thing of ``kind`` (``post``,
#: ``message``, ``review``, ``product``) as ``viewer`` may see it, for the flag and the
#: review queue; None when missing or not visible to ``viewer`` (404). The owner
#: answers (board: post, chat: message, reviews: review and, for the audit log's
#: links, report; shop: product).
moderation_target = plaza.signal("moderation-target")
#: Question ``ask(moderation_hide, kind, target_id=int, hidden=bool, actor=User | None,
#: reason=str)`` -> True when the owner hid (or restored) the target; asked by
#: moderation when a moderator agrees or disagrees, or a flag score passes the
#: threshold (``actor=None``: the system). Moderation writes the audit entry.
moderation_hide = plaza.signal("moderation-hide")

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

# --- widgets in posts and chat (forum.embeds) ------------------------------------------
#: Question ``ask(widget_for, kind)`` -> ``embeds.WidgetKind`` | None: how to load, render
#: and link the ``[[kind:ID]]`` widget. Asked by ``forum.embeds``; the feature owning the
#: kind answers (shop: product, promotions: groupbuy and snap, events: event).
widget_for = plaza.signal("widget-for")
#: Question ``ask(widget_link, ref, plain="/p/1", context=EmbedContext)`` -> str | None:
#: the href a widget shown in a post or message carries. Answered by attribution (a
#: signed ``/go/...`` link); no answer leaves the plain link.
widget_link = plaza.signal("widget-link")
#: ``widgets_shown.send(None, pairs=[(EmbedRef, EmbedContext), ...])``: once per rendered
#: body, every widget it showed. Sender: ``forum.embeds.expand``; receiver: attribution
#: (impressions).
widgets_shown = plaza.signal("widgets-shown")
# --- notifications --------------------------------------------------------------------
#: ``notification_created.send(notification)``: a bell notification was written (in its
#: transaction). Receivers: campaigns (the notification email, per the member's choice).
notification_created = plaza.signal("notification-created")

# --- board ------------------------------------------------------------------------------
#: ``post_created.send(post, thread=...)``: a post (or a thread's first post) was written.
post_created = plaza.signal("post-created")
#: ``thread_shown.send(thread, viewer=...)``: a question while a thread page renders;
#: each feature answers trusted Markup shown above the posts (reviews: "bought this"
#: with the product card of an experience report) or None.
thread_shown = plaza.signal("thread-shown")
#: ``thread_read.send(thread, reader=User, position=int)``: the member reported reading
#: ``thread`` up to post ``position`` (the thread page's read beacon, ``POST /t/<id>/read``,
#: or ``POST /api/v1/threads/<id>/read``), in the beacon's transaction after the mark
#: moved. Not sent for the mark a member's own new post sets. Receivers: trust (topics
#: entered, posts read, reading time, the day visited; the reader re-evaluated).
thread_read = plaza.signal("thread-read")
#: ``post_liked.send(post, liker=User, liked=True | False)``: ``board.service.like``
#: added a like (True) or ``unlike`` removed one (False), in its transaction, after the
#: like row and the count moved. Receivers: members (the "likes" points to the author).
post_liked = plaza.signal("post-liked")
#: ``board_changed.send(thread_or_category, what="post_edited" | "post_deleted" |
#: "post_hidden" | "post_restored" | "thread_locked" | "thread_pinned" | "thread_moved" |
#: "category_created" | "category_moved" | "site_settings")``: what the board's pages
#: show changed (inside the transaction; new posts are ``post_created``; the sender is None
#: for the site's settings). Receivers: pagecache (the lists and whole pages kept for
#: anonymous readers are from before it once it commits).
board_changed = plaza.signal("board-changed")

# --- chat -------------------------------------------------------------------------------
#: ``message_sent.send(message, room=...)``: a chat message was stored (inside its transaction).
message_sent = plaza.signal("message-sent")

# --- shop -------------------------------------------------------------------------------
#: ``order_changed.send(order, event=OrderEvent)``: every event an order records
#: (placed, paid, shipped, completed, cancelled, expired, refunded, source_set ...).
order_changed = plaza.signal("order-changed")
#: ``order_priced.send(order, quote=PriceQuote, buyer=...)``: ``place_order`` wrote the
#: order row and has not reserved stock yet. The feature whose price step promised
#: something claims it here (members: a coupon use, one guarded UPDATE); raising a
#: ServiceError refuses the order. Claimed rows are so locked before product rows.
order_priced = plaza.signal("order-priced")

# --- members ----------------------------------------------------------------------------
#: Question ``ask(in_segment, "segment", segment_id=int, user=User)`` -> bool: is ``user``
#: in that campaign segment now (its rule evaluated for this one member, one query)?
#: Asked by members for a coupon whose audience is a segment; answered by campaigns
#: (an unknown segment answers False; with nobody answering such a coupon is refused).
in_segment = plaza.signal("in-segment")
#: Question ``ask(segment_names, "segment", ids=[int, ...] | None)`` -> {id: name}: the
#: named campaign segments (``ids=None``: the newest 200, for a form's choices). Asked by
#: members to check and offer a coupon's segment; answered by campaigns.
segment_names = plaza.signal("segment-names")

# --- members --------------------------------------------------------------------------
#: ``tier_changed.send(user, old="shopper", new="vip", reason="order_completed",
#: order_id=... | None)``: a member's tier moved (evaluation, manual grant, the job);
#: sent by ``members.service.tiers`` in its transaction, after the history row.
tier_changed = plaza.signal("tier-changed")
# --- trust ------------------------------------------------------------------------------
#: ``trust_changed.send(user, old=1, new=2, reason="rules" | a staff reason)``: a member's
#: trust level moved (``trust.service`` evaluation or a staff grant), in its transaction,
#: after the history row. Receivers: (none yet: for moderation and others).
trust_changed = plaza.signal("trust-changed")
#: ``product_shown.send(product, viewer=...)``: a question while a product page renders;
#: each feature answers trusted Markup shown below the product (reviews: ratings,
#: reviews, experience reports, threads embedding it) or None.
product_shown = plaza.signal("product-shown")
#: ``review_changed.send(review, change="created" | "edited" | "hidden" | "restored" |
#: "deleted")``: what readers (and search) see of a product's reviews moved; sent by
#: ``reviews.service`` in its transaction. Read the product's review text again with
#: ``reviews.service.review_texts(product_id)``.
review_changed = plaza.signal("review-changed")

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
#: ``signup_checked_in.send(signup, event=..., checked_in=True | False)``: the host
#: checked a participant in at the door (True) or undid it (False); sent by
#: ``events.service.checkin`` in its transaction, after the sign-up row moved.
#: Receivers: members (the "checkin" points, once per sign-up).
signup_checked_in = plaza.signal("signup-checked-in")

# --- search -----------------------------------------------------------------------------
#: ``search_stale.send(source, ids=[...])``: the owner of ``source`` rows ("post",
#: "message", "product", "event") changed what they say to search (edited, hidden,
#: moved, deleted, a product's reviews); sent in the owner's transaction. Receiver:
#: search (asks the owner's ``search_documents`` for those rows again).
search_stale = plaza.signal("search-stale")


def ask(signal: Signal, sender: Any, **kwargs: Any) -> Any:
    """Send a question signal and return the first answer that is not None (or None).

    Only receivers connected for ``sender`` (or for any sender) answer, so a kind
    nobody owns answers None.
    """
    for _receiver, answer in signal.send(sender, **kwargs):
        if answer is not None:
            return answer
    return None
