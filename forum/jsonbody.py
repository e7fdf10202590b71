"""Parsing JSON that strangers send: bounded nesting, never a RecursionError.

Python's parser recurses once per ``[`` or ``{``; a body of a thousand brackets
raises RecursionError (a 500) instead of a parse error. Every JSON door (the
Flask JSON provider, API bodies, Socket.IO packets) parses through ``loads``,
which refuses documents nested deeper than ``MAX_DEPTH`` with ``TooDeep``, a
ValueError like any other malformed JSON.
"""

import json
import re
from typing import Any

from flask.json.provider import DefaultJSONProvider

MAX_DEPTH = 32  # our deepest real payload (an order with an address) nests 4 levels


class TooDeep(ValueError):
    """The document nests arrays/objects deeper than MAX_DEPTH."""


def _too_deep(value, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def loads(data: str | bytes, **kwargs: Any) -> Any:
    """``json.loads`` that raises TooDeep (a ValueError) past MAX_DEPTH levels."""
    try:
        value = json.loads(data, **kwargs)
    except RecursionError:
        raise TooDeep(f"The JSON nests deeper than {MAX_DEPTH} levels.") from None
    if isinstance(value, dict | list) and _too_deep(value, MAX_DEPTH):
        raise TooDeep(f"The JSON nests deeper than {MAX_DEPTH} levels.")
    return value


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON with the nesting bound (``request.get_json`` everywhere)."""

    def loads(self, s, **kwargs):
        return loads(s, **kwargs)


class TooDeepPayload:
    """Stands in for a Socket.IO event's arguments that nested too deep.

    The event name is kept so the handler still runs and can answer the client's
    acknowledgement with a clear ``invalid_json`` error instead of silence.
    """

    def __repr__(self) -> str:
        return "<TooDeepPayload>"


_EVENT_NAME = re.compile(r'^\s*\[\s*("(?:[^"\\]|\\.){1,200}")\s*,')


class SocketJSON:
    """The ``json`` module Socket.IO decodes packets with (``SocketIO(json=...)``)."""

    @staticmethod
    def dumps(*args, **kwargs):
        return json.dumps(*args, **kwargs)

    @staticmethod
    def loads(data, *args, **kwargs):
        try:
            return loads(data, *args, **kwargs)
        except TooDeep:
            match = _EVENT_NAME.match(data if isinstance(data, str) else data.decode())
            if match is None:
                raise
            return [json.loads(match.group(1)), TooDeepPayload()]
