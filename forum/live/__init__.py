"""The /live Socket.IO namespace: pages watch rooms and receive pushes.

Rooms are named ``<kind>:<rest>`` (``thread:42``, ``offer:product:7``,
``event:5``); each kind registers a rule saying who may watch it. Every
socket also sits in its own ``user:ID`` room (notifications, logout).
"""

from collections.abc import Callable

RoomRule = Callable[[object, str], bool]  # (user or None, rest of the room name) -> allowed
ROOM_RULES: dict[str, RoomRule] = {}


def room_rule(kind: str):
    """Register who may watch ``kind:...`` rooms; the function gets (user|None, rest)."""

    def register(func: RoomRule) -> RoomRule:
        ROOM_RULES[kind] = func
        return func

    return register


def may_watch(user, room: str) -> bool:
    kind, _, rest = room.partition(":")
    rule = ROOM_RULES.get(kind)
    return bool(rest) and rule is not None and rule(user, rest)
