"""Widgets inside user content: each feature answers for its own kind through ``forum.signals``.

``forum.markup`` leaves ``<plaza-embed kind=.. ref=..>`` placeholders in stored
HTML; at display time ``expand`` swaps each one for the trusted template of its
kind (product card, group-buy, snap-up, event card). A kind nobody answers for, or
a target that is missing or archived, shows the "offer unavailable" card. Loading
is batched per request: ``preload`` gathers every placeholder on the page and asks
each kind once (kinds sharing a ``load_together`` once for all of them).

There is no registry here. The owner of a kind answers the question
``signals.widget_for`` for that kind (connected in its ``init_app``)::

    PRODUCT_WIDGET = embeds.WidgetKind(
        kind="product",
        load=lambda ids: {...id: object...},       # one query for all ids
        render=lambda obj, ctx, href: Markup(...), # trusted template
        url=lambda obj: url_for(...),              # where the widget leads
    )

    def product_widget(kind):                      # module-level: blinker holds it weakly
        return PRODUCT_WIDGET

    signals.widget_for.connect(product_widget, sender="product")

Attribution answers ``signals.widget_link`` (a tracked ``/go/...`` href) and hears
``signals.widgets_shown`` (impressions); without it, links are plain and nothing counts.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import g, has_request_context, render_template, url_for
from markupsafe import Markup

from . import signals
from .markup import PLACEHOLDER_RE, EmbedRef, Rendered, render


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
    # Kinds whose owner reads them in one statement: {kind: ids} -> {kind: {id: object}},
    # called once per page for every kind of the page sharing the same function.
    load_together: Callable[[dict[str, list[int]]], dict[str, dict[int, Any]]] | None = None


def widget(kind: str) -> WidgetKind | None:
    """The widget of ``kind``: its owner's answer to ``signals.widget_for`` (None: unknown),
    asked once per kind and request."""
    if not has_request_context():
        return signals.ask(signals.widget_for, kind)
    owners = g.setdefault("plaza_embed_owners", {})
    if kind not in owners:
        owners[kind] = signals.ask(signals.widget_for, kind)
    return owners[kind]


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
    together: dict[Callable, dict[str, list[int]]] = {}
    for kind, ids in wanted.items():
        owner = widget(kind)
        known = cache.setdefault(kind, {})
        missing = sorted(ids - known.keys())
        if owner and missing and owner.load_together is not None:
            together.setdefault(owner.load_together, {})[kind] = missing
        elif owner and missing:
            loaded = owner.load(missing)
            for ident in missing:
                known[ident] = loaded.get(ident)
    for load, kinds in together.items():
        loaded_kinds = load(kinds)
        for kind, missing in kinds.items():
            loaded = loaded_kinds.get(kind, {})
            for ident in missing:
                cache[kind][ident] = loaded.get(ident)


def target(ref: EmbedRef):
    """The live object behind ``ref``, or None when missing/unavailable."""
    known = _cache().get(ref.kind)
    if known is not None and ref.id in known:
        return known[ref.id]
    preload([f'<plaza-embed kind="{ref.kind}" ref="{ref.id}"></plaza-embed>'])
    return _cache().get(ref.kind, {}).get(ref.id)


def href(ref: EmbedRef, context: EmbedContext | None) -> str:
    """The link a widget carries: tracked when a feature answers ``signals.widget_link``
    (attribution), else plain."""
    obj = target(ref)
    owner = widget(ref.kind)
    plain = owner.url(obj) if (owner and obj is not None) else url_for("pages.offer_unavailable")
    if context is not None and context.source_id is not None:
        return signals.ask(signals.widget_link, ref, plain=plain, context=context) or plain
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
        owner = widget(ref.kind)
        obj = _cache().get(ref.kind, {}).get(ref.id)
        if owner is None or obj is None:
            return str(unavailable_card())
        if context is None:
            return str(owner.render(obj, PREVIEW, owner.url(obj)))
        shown.append((ref, context))
        return str(owner.render(obj, context, href(ref, context)))

    out = PLACEHOLDER_RE.sub(swap, html)
    if shown:
        signals.widgets_shown.send(None, pairs=shown)
    return Markup(out)


def preview(text: str | Rendered) -> Markup:
    """Sanitized HTML for the composer's preview (widgets link plainly, count nothing)."""
    rendered = text if isinstance(text, Rendered) else render(text)
    return expand(rendered.html, context=None)
