"""The /live Socket.IO namespace: pages *watch* rooms and receive pushes.

Part of the live layer (see ``forum.realtime`` for the three modules' roles): this
package is the inbound side for pages (threads, offers, events); the pushes
themselves are queued by services with ``forum.realtime.announce``, and the shared
socket plumbing is ``forum.sockets``.

Rooms are named ``<kind>:<rest>`` (``thread:42``, ``offer:product:7``,
``event:5``). Who may watch a kind is a question signal,
``signals.room_watch_allowed``: the feature owning the kind connects its answer with
``sender=kind`` in its own ``init_app``. Every socket also sits in its own
``user:ID`` room (notifications, logout).
"""

from .. import signals


def may_watch(user, room: str) -> bool:
    """True when the feature owning ``room``'s kind says ``user`` (or None) may watch it."""
    kind, _, rest = room.partition(":")
    if not kind or not rest:
        return False
    return bool(signals.ask(signals.room_watch_allowed, kind, user=user, rest=rest))
