"""The one module that turns user text into HTML.

Markdown (cmark-gfm, through cmarkgfm) -> HTML -> nh3 against an allowlist ->
embeds and mentions. cmark-gfm is GitHub's C implementation of CommonMark with
the GFM extensions, built and fuzzed to parse pathological input in linear time
(Python-Markdown's regex inline patterns took a minute on 20,000 ``[``;
markdown-it-py, tried next, took 1.5 s on 25,000 ``![``). It is no sanitizer
(raw HTML passes through it, on purpose), so nh3 always runs on its output. The
result is stored beside the source as ``body_html``.

Two things cmark-gfm does not bound, depth and table padding, are bounded on its
output before nh3 (``forum.markup.markdown``: ``MAX_HTML_DEPTH``, ``MAX_CONTAINERS``,
``MAX_AUTOCOMPLETED_CELLS``).

Embeds (``[[product:42]]``) and ``@name`` mentions are found after sanitizing,
in the text between tags, outside ``<code>``, ``<pre>`` and links: an embed
becomes ``<plaza-embed kind=.. ref=..></plaza-embed>`` (nh3 never allows that
tag, so every placeholder in stored HTML was put there by this module;
``forum.embeds`` swaps placeholders for trusted widget templates when the page
is rendered); a mention of a member who exists (``signals.members_named``, asked once
per body for at most ``MENTION_LOOKUP_MAX`` names) becomes a link to their profile and
is listed in ``Rendered.mentions`` for notifications; ``@nobody`` stays plain text. Bare URLs become links (cmark-gfm's
autolink extension).

Images may only show the site's own image paths (``SITE_IMAGE_PATHS``): any
other same-site URL (``/go/..``, ``/logout``, an API route) would be fetched by
every viewer's browser with their cookies, and an external image would be
blocked by the CSP (``img-src 'self'``), so it becomes a link to the picture.
"""

import re
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

import nh3
from flask import current_app, has_app_context, has_request_context, request

from .. import signals

# The limits and the depth probe are markdown's; callers and tests name them here.
from .markdown import MAX_AUTOCOMPLETED_CELLS as MAX_AUTOCOMPLETED_CELLS
from .markdown import MAX_CONTAINERS as MAX_CONTAINERS
from .markdown import MAX_HTML_DEPTH as MAX_HTML_DEPTH
from .markdown import MAX_NESTING as MAX_NESTING
from .markdown import html_depth as html_depth
from .markdown import to_html

EMBED_KINDS = ("product", "groupbuy", "snap", "event", "auction", "guess")
EMBED_PATTERN = r"\[\[(product|groupbuy|snap|event|auction|guess):([0-9]{1,9})\]\]"
EMBED_RE = re.compile(EMBED_PATTERN)
MENTION_RE = re.compile(r"(?<![\w@/])@([A-Za-z0-9][A-Za-z0-9_-]{1,30}[A-Za-z0-9])\b")
PROFILE_PATH = "/u/{}"  # accounts.profile; a constant so rendering needs no request
MAX_EMBEDS = 20
MENTION_LOOKUP_MAX = 50  # names looked up per body; any further @name stays text


# Same-site paths an image may show: static files, shop images, event covers. Any other
# same-site URL in an <img> would be requested by every viewer, with their cookies.
SITE_IMAGE_PATHS = ("/static/", "/images/", "/events/covers/", "/media/")

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "details", "div", "em", "h1", "h2",
    "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre",
    "s", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "th", "thead",
    "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"align"},
    "th": {"align"},
    "ol": {"start"},
}
ALLOWED_CLASSES = {"code": {f"language-{name}" for name in (
    "python", "js", "javascript", "bash", "sh", "json", "html", "css", "sql", "text", "yaml",
)}}  # fmt: skip
URL_SCHEMES = {"http", "https", "mailto"}
URL_ATTRIBUTES = {"href", "src"}
CLEAN_CONTENT_TAGS = {
    "script",
    "style",
    "svg",
    "math",
    "iframe",
    "object",
    "embed",
    "template",
    "noscript",
}
LINK_REL = "nofollow ugc noopener"

# Whitespace, control, format (zero-width, bidi) and other invisible characters that
# browsers drop from URLs, so "java\u200bscript:" or "java&#x09;script:" still run.
_INVISIBLE_CATEGORIES = {"Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "Co", "Cn"}


# ASCII's invisible characters: the controls and the space (what NFKC leaves alone).
_ASCII_INVISIBLE = dict.fromkeys([*range(0x21), 0x7F])


def _visible_url(value: str) -> str:
    if value.isascii():  # most URLs: no per-character lookups
        return value.translate(_ASCII_INVISIBLE)
    value = unicodedata.normalize("NFKC", value)
    return "".join(ch for ch in value if unicodedata.category(ch) not in _INVISIBLE_CATEGORIES)


def safe_url(value: str) -> str | None:
    """Return ``value`` if it is a relative URL or uses an allowed scheme, else None."""
    cleaned = _visible_url(value).strip()
    if not cleaned:
        return None
    if cleaned.startswith("//"):
        cleaned = "https:" + cleaned
    parts = urlsplit(cleaned)
    if parts.scheme:
        if parts.scheme.lower() not in URL_SCHEMES:
            return None
    elif ":" in cleaned.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]:
        # "javascript&colon;..." style: a colon before any slash is a scheme attempt.
        return None
    return value.strip()


def _own_hosts() -> set[str]:
    """Host names this site answers on: the request's, and SERVER_NAME when set."""
    hosts = set()
    if has_request_context():
        hosts.add(request.host)
    if has_app_context() and current_app.config.get("SERVER_NAME"):
        hosts.add(current_app.config["SERVER_NAME"])
    return {host.rsplit(":", 1)[0].strip("[]").rstrip(".").lower() for host in hosts if host}


def _is_site_image_path(path: str) -> bool:
    # Browsers undo percent-encoding of dots and resolve dot segments before fetching,
    # so "/static/../go/x" and "/static/%2e%2e/go/x" are both /go/x.
    decoded = unquote(path)
    if any(segment in (".", "..") for segment in decoded.split("/")):
        return False
    return decoded.startswith(SITE_IMAGE_PATHS)


def safe_image_url(value: str) -> str | None:
    """``value`` if an <img> may load it: an external http(s) host or a site image path.

    Any other same-site URL (relative or on this site's host) is refused: an image is
    fetched by every viewer's browser with their cookies, so ``![](/go/..)`` would
    click a tracked link, and ``![](/logout)`` log them out, on each view.
    """
    if safe_url(value) is None:
        return None
    # Browsers read "\" as "/" in http(s) URLs ("/\\host" is "//host").
    cleaned = _visible_url(value).strip().replace("\\", "/")
    parts = urlsplit("https:" + cleaned if cleaned.startswith("//") else cleaned)
    if parts.scheme:
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            return None
        if parts.hostname.rstrip(".").lower() not in _own_hosts():
            return value.strip()
    elif not cleaned.startswith("/"):
        return None  # "go/x", "../go/x", "?x": relative to the page, so same-site
    return value.strip() if _is_site_image_path(parts.path) else None


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src":
        return safe_image_url(value)
    if attribute in URL_ATTRIBUTES:
        return safe_url(value)
    return value


_cleaner = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    clean_content_tags=CLEAN_CONTENT_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    attribute_filter=_attribute_filter,
    link_rel=LINK_REL,
    url_schemes=URL_SCHEMES,
    allowed_classes=ALLOWED_CLASSES,
    strip_comments=True,
)


def sanitize(html: str) -> str:
    return _cleaner.clean(html)


@dataclass(frozen=True)
class EmbedRef:
    kind: str
    id: int

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"


@dataclass
class Rendered:
    html: str
    embeds: list[EmbedRef] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)
    # Quotes or lists nested past MAX_NESTING: their deepest content is not shown.
    too_deep: bool = False


def placeholder(ref: EmbedRef) -> str:
    return f'<plaza-embed kind="{ref.kind}" ref="{ref.id}"></plaza-embed>'


PLACEHOLDER_RE = re.compile(r'<plaza-embed kind="([a-z]+)" ref="([0-9]+)"></plaza-embed>')


# --- embeds and mentions, on sanitized HTML -------------------------------------------
# nh3's output escapes "<" and ">" in text and in attribute values, so every "<...>"
# in it is a tag. One scan finds, left to right: the tags that open or close code,
# pre and links; any other tag holding "@" or "[" (so nothing in an attribute is
# touched); embeds and mentions in the text between.
_TEXT_RULES_RE = re.compile(
    r"<(/?)(a|code|pre)\b[^>]*>|<[^>@\[]*[@\[][^>]*>|" + EMBED_PATTERN + "|" + MENTION_RE.pattern
)
_BLOCK_EMBED_RE = re.compile(r"<p>(<plaza-embed [^>]*></plaza-embed>)</p>")


def _known_members(html: str) -> dict[str, str] | None:
    """``{username_key: username}`` of the members the body may mention, asked of the
    owner of accounts; None outside an app (every name is then linked, as typed)."""
    if not has_app_context():
        return None
    names = list(dict.fromkeys(name.lower() for name in MENTION_RE.findall(html)))
    if not names:
        return {}
    return signals.ask(signals.members_named, "mention", names=names[:MENTION_LOOKUP_MAX])


def _embeds_and_mentions(html: str) -> tuple[str, list[EmbedRef], list[str]]:
    found: list[EmbedRef] = []
    mentions: list[str] = []
    if "@" not in html and "[[" not in html:
        return html, found, mentions
    inside = {"a": 0, "code": 0, "pre": 0}
    known = _known_members(html) if "@" in html else {}

    def swap(match: re.Match) -> str:
        if match.group(2):
            inside[match.group(2)] += -1 if match.group(1) else 1
            return match.group(0)
        if match.group(0).startswith("<") or inside["code"] or inside["pre"]:
            return match.group(0)
        if match.group(5):  # a mention
            key = match.group(5).lower()
            if known is not None and key not in known:
                return match.group(0)  # nobody of that name: plain text, nobody told
            mentions.append(key)
            if inside["a"]:  # already inside a link's text: no link in a link
                return match.group(0)
            href = PROFILE_PATH.format(known[key] if known is not None else match.group(5))
            return f'<a href="{href}" rel="{LINK_REL}">{match.group(0)}</a>'
        if inside["a"] or len(found) >= MAX_EMBEDS:
            return match.group(0)
        found.append(EmbedRef(match.group(3), int(match.group(4))))
        return placeholder(found[-1])

    html = _TEXT_RULES_RE.sub(swap, html)
    # An embed alone in its paragraph is a block widget, not inside a <p>.
    return _BLOCK_EMBED_RE.sub(r"\1", html), found, mentions


# --- external images become links -------------------------------------------------------
# The CSP says ``img-src 'self'``: an <img> of another host would show as broken, and
# would tell that host who reads the page. Such an image becomes a link to it (its alt
# text, or the URL, as the link text); inside a link, just its alt text. An <img> whose
# src the sanitizer refused keeps only its alt text.
_LINK_OR_IMG_RE = re.compile(r"<(/?)a\b[^>]*>|<img\b[^>]*>")
_SRC_RE = re.compile(r'\ssrc="([^"]*)"')
_ALT_RE = re.compile(r'\salt="([^"]*)"')
_UPLOAD_RE = re.compile(r"^/media/([0-9a-f]{32}\.(?:jpg|png|webp))$")  # attachments' names


def _is_external(src: str) -> bool:
    from html import unescape

    cleaned = unescape(src).strip().replace("\\", "/")
    parts = urlsplit("https:" + cleaned if cleaned.startswith("//") else cleaned)
    host = (parts.hostname or "").rstrip(".").lower()
    return bool(host) and host not in _own_hosts()


def _external_images_as_links(html: str) -> str:
    if "<img" not in html:
        return html
    depth = 0

    def swap(match: re.Match) -> str:
        nonlocal depth
        tag = match.group(0)
        if not tag.startswith("<img"):
            depth += -1 if match.group(1) else 1
            return tag
        src, alt = _SRC_RE.search(tag), _ALT_RE.search(tag)
        alt_text = alt.group(1) if alt else ""
        if src is not None and not _is_external(src.group(1)):
            upload = _UPLOAD_RE.match(src.group(1))
            if upload is None:
                return tag
            # An uploaded picture shows its stored thumbnail; the link (the lightbox with
            # script) opens it full size. Inside another link, just the thumbnail.
            thumb = tag.replace(src.group(0), f' src="/media/thumbs/{upload.group(1)}"', 1)
            if depth > 0:
                return thumb
            return f'<a href="{src.group(1)}" class="lightbox-link" data-lightbox>{thumb}</a>'
        if src is None or depth > 0:
            return alt_text
        return f'<a href="{src.group(1)}" rel="{LINK_REL}">{alt_text or src.group(1)}</a>'

    return _LINK_OR_IMG_RE.sub(swap, html)


def render(text: str) -> Rendered:
    """Render Markdown ``text`` to sanitized HTML with embed placeholders."""
    raw, too_deep = to_html(text or "")
    html, found, mentions = _embeds_and_mentions(sanitize(raw).rstrip("\n"))
    # After mentions: an alt text turned link text is not a mention.
    html = _external_images_as_links(html)
    # Deduplicate while keeping order: a widget listed twice is still one embed.
    return Rendered(
        html=html,
        embeds=list(dict.fromkeys(found)),
        mentions=list(dict.fromkeys(mentions)),
        too_deep=too_deep,
    )


# --- plain text, for search and excerpts -----------------------------------------------
_ANY_TAG_RE = re.compile(r"<[^>]*>")
# Tags inside a line of text: dropped without a space, so "**yes**," reads "yes,".
_INLINE_TAG_RE = re.compile(
    r"</?(?:a|abbr|b|code|del|em|i|ins|kbd|mark|s|span|strong|sub|sup)\b[^>]*>"
)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def plain_text(html: str) -> str:
    """The words of rendered, sanitized ``html``: no tags, no Markdown, no widget
    placeholders, entities decoded, whitespace collapsed, control characters gone.

    nh3's output escapes ``<`` in text, so every ``<...>`` in it is a tag; an inline
    one goes, any other becomes a space so block boundaries stay word boundaries."""
    import html as html_module

    text = html_module.unescape(_ANY_TAG_RE.sub(" ", _INLINE_TAG_RE.sub("", html or "")))
    return " ".join(_CONTROL_RE.sub(" ", text).split())


EXCERPT_LENGTH = 180


def excerpt(html: str, length: int = EXCERPT_LENGTH) -> str:
    """A plain-text preview of rendered ``html`` (profiles, notifications, listings):
    ``plain_text`` cut at a word boundary within ``length`` characters, with "…" when
    cut. Never Markdown, tags or widget placeholders; escape it when shown."""
    text = plain_text(html)
    if len(text) <= length:
        return text
    cut = text[: length - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > length // 2 else cut).rstrip(" ,.;:") + "…"
