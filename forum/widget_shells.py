"""Widget shells: a widget's HTML rendered once per state and reused across requests.

Any feature's ``[[kind:ID]]`` widget may use it (promotions' auction, guessing and
group-buy widgets, events' cards).

A widget's HTML is a function of its rows (the offer, its product and merchant, the
teams or sales it shows), the tracked link it carries and the clock. What moves with
the clock every second (the server's time, the countdown texts) is left as a *slot*
in the rendered HTML and filled per request; everything else is rendered once per
*state key* and kept in a small LRU per process.

The key is made of the values themselves (every column of every row the template
reads, via ``row_state``), not of a version someone must remember to bump: a sale, a
join, a renamed product or a changed setting is simply another key, so there is
nothing to invalidate and several server processes never disagree. Nothing about the
viewer goes into a shell: personal parts (a member's own teams) are rendered by the
caller outside it.

Slots are written ``{{ slot("name") }}`` in a template; the marker carries a random
per-process token, so no stored text can pose as one.
"""

import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import datetime

from markupsafe import Markup, escape
from sqlalchemy import inspect

MAX_SHELLS = 2048  # widgets' states kept per process (a few kB each)

_TOKEN = secrets.token_hex(6)
_SLOT_RE = re.compile("\x00" + _TOKEN + r":([A-Za-z0-9_:-]+)\x00")
_shells: OrderedDict[tuple, str] = OrderedDict()
_lock = threading.Lock()


def slot(name: str) -> Markup:
    """The marker ``fill`` replaces with the value named ``name``."""
    return Markup(f"\x00{_TOKEN}:{name}\x00")  # noqa: S704 (our own marker, no user text)


def row_state(obj) -> tuple:
    """Every column value of a mapped row (None for no row): the row's part of a key."""
    if obj is None:
        return (None,)
    return tuple(frozen(getattr(obj, attr.key)) for attr in inspect(type(obj)).column_attrs)


def frozen(value):
    """A payload (dicts, lists, plain values) as a hashable key part, without its
    ``server_now`` (that is a slot)."""
    if isinstance(value, dict):
        return tuple(sorted((k, frozen(v)) for k, v in value.items() if k != "server_now"))
    if isinstance(value, list | tuple):
        return tuple(frozen(v) for v in value)
    return value


def recall(key: tuple):
    """What ``keep`` stored under ``key`` (None when it was never kept or has been dropped)."""
    with _lock:
        kept = _shells.get(key)
        if kept is not None:
            _shells.move_to_end(key)
    return kept


def keep(key: tuple, value) -> None:
    """Store ``value`` (a shell, or an owner's snapshot holding one) under ``key``; the
    oldest go once there are ``MAX_SHELLS``."""
    with _lock:
        _shells[key] = value
        while len(_shells) > MAX_SHELLS:
            _shells.popitem(last=False)


def fill(html: str, values: Mapping[str, str]) -> Markup:
    """``html`` (a shell) with its slots replaced by ``values`` (plain texts, escaped here)."""
    return Markup(  # noqa: S704 (a trusted template's output, slot values escaped)
        _SLOT_RE.sub(lambda match: str(escape(values.get(match.group(1), ""))), html)
    )


def render(key: tuple, build: Callable[[], str], values: Mapping[str, str]) -> Markup:
    """The HTML for ``key``: built by ``build`` the first time, then reused; slots filled.

    ``values`` are plain texts (escaped here) for the slots ``build``'s template left.
    """
    html = recall(key)
    if html is None:
        html = str(build())
        keep(key, html)
    return fill(html, values)


def clear() -> None:
    """Forget every shell (tests that change templates or settings in place)."""
    with _lock:
        _shells.clear()


def time_left(until: datetime, at: datetime) -> str:
    """``3d 4h`` / ``2h 5m`` / ``4m 10s`` / ``0m``: the widgets' countdown text (the
    ``time_left`` macro in promotions/_macros.html calls this)."""
    seconds = int((until - at).total_seconds())
    if seconds <= 0:
        return "0m"
    if seconds >= 86400:
        return f"{seconds // 86400}d {(seconds % 86400) // 3600}h"
    if seconds >= 3600:
        return f"{seconds // 3600}h {(seconds % 3600) // 60}m"
    return f"{seconds // 60}m {seconds % 60}s"
