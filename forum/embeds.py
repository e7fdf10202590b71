"""Widgets inside user content: a registry each feature fills with its own kind.

``forum.markup`` leaves ``<plaza-embed kind=.. ref=..>`` placeholders in stored
HTML; at display time ``expand`` swaps each one for the trusted template of its
kind (product card, group-buy, snap-up, event card). A kind nobody registered, or
a target that is missing or archived, shows the "offer unavailable" card. Loading
is batched per request: ``preload`` gathers every placeholder on the page and asks
each kind once.

A feature registers with::

    embeds.register(WidgetKind(
        kind="product",
        load=lambda ids: {...id: object...},       # one query for all ids
        render=lambda obj, ctx: Markup(...),       # trusted template
        url=lambda obj: url_for(...),              # where the widget leads
    ))
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import g, render_template, url_for
from markupsafe import Markup

from .markup import PLACEHOLDER_RE, EmbedRef


@dataclass(frozen=True)
class EmbedContext:
    """Where a widget is shown: the post or chat message holding it, and its author."""

    source_kind: str  # "post" | "message" | "preview"
    source_id: int | None
    author_id: int | None
    room: str | None = None


@dataclass(frozen=True)
class WidgetKind:
    kind: str
    load: Callable[[list[int]], dict[int, Any]]
    render: Callable[[Any, EmbedContext, str], Markup]  # (object, context, tracked href)
    url: Callable[[Any], str]


_KINDS: dict[str, WidgetKind] = {}
# Attribution installs a builder that signs (source, author, offer) into the link.
_link_builder: Callable[[EmbedRef, str, EmbedContext | None], str] | None = None
_shown_listeners: list[Callable[[list[tuple[EmbedRef, EmbedContext]]], None]] = []


def register(kind: WidgetKind) -> None:
    _KINDS[kind.kind] = kind


def set_link_builder(builder) -> None:
    global _link_builder
    _link_builder = builder


def on_shown(listener) -> None:
    """``listener(pairs)`` is called once per page with every (ref, context) shown.

    Adding the same listener again has no effect (every app's ``init_app`` adds it)."""
    if listener not in _shown_listeners:
        _shown_listeners.append(listener)


def refs_in(html: str) -> list[EmbedRef]:
    return [EmbedRef(kind, int(ref)) for kind, ref in PLACEHOLDER_RE.findall(html or "")]


def _cache() -> dict[str, dict[int, Any]]:
    if "plaza_embed_cache" not in g:
        g.plaza_embed_cache = {}
    return g.plaza_embed_cache


def preload(htmls: Iterable[str]) -> None:
    wanted: dict[str, set[int]] = {}
    for html in htmls:
        for ref in refs_in(html):
            wanted.setdefault(ref.kind, set()).add(ref.id)
    cache = _cache()
    for kind, ids in wanted.items():
        widget = _KINDS.get(kind)
        known = cache.setdefault(kind, {})
        missing = sorted(ids - known.keys())
        if widget and missing:
            loaded = widget.load(missing)
            for ident in missing:
                known[ident] = loaded.get(ident)


def target(ref: EmbedRef):
    """The live object behind ``ref``, or None when missing/unavailable."""
    preload([f'<plaza-embed kind="{ref.kind}" ref="{ref.id}"></plaza-embed>'])
    return _cache().get(ref.kind, {}).get(ref.id)


def href(ref: EmbedRef, context: EmbedContext | None) -> str:
    """The link a widget carries: tracked when attribution is installed."""
    obj = target(ref)
    widget = _KINDS.get(ref.kind)
    plain = widget.url(obj) if (widget and obj is not None) else url_for("pages.offer_unavailable")
    if _link_builder is not None and context is not None and context.source_id is not None:
        return _link_builder(ref, plain, context)
    return plain


def describe(refs: Iterable[EmbedRef], context: EmbedContext | None) -> list[dict]:
    """The API's ``embeds`` list: ``[{kind, id, href}]``."""
    return [{"kind": ref.kind, "id": ref.id, "href": href(ref, context)} for ref in refs]


def unavailable_card() -> Markup:
    return Markup(render_template("embeds/unavailable.html"))


PREVIEW = EmbedContext("preview", None, None)


def expand(html: str, context: EmbedContext | None) -> Markup:
    """Replace each placeholder in trusted ``html`` by its widget.

    Without a context (composer preview) widgets link plainly and count no impression.
    """
    if "<plaza-embed" not in (html or ""):
        return Markup(html or "")
    preload([html])
    shown: list[tuple[EmbedRef, EmbedContext]] = []

    def swap(match) -> str:
        ref = EmbedRef(match.group(1), int(match.group(2)))
        widget = _KINDS.get(ref.kind)
        obj = _cache().get(ref.kind, {}).get(ref.id)
        if widget is None or obj is None:
            return str(unavailable_card())
        if context is None:
            return str(widget.render(obj, PREVIEW, widget.url(obj)))
        shown.append((ref, context))
        return str(widget.render(obj, context, href(ref, context)))

    out = PLACEHOLDER_RE.sub(swap, html)
    if shown:
        for listener in _shown_listeners:
            listener(shown)
    return Markup(out)
