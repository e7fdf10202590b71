"""The one module that turns user text into HTML.

Markdown (cmark-gfm, through cmarkgfm) -> HTML -> nh3 against an allowlist ->
embeds and mentions. cmark-gfm is GitHub's C implementation of CommonMark with
the GFM extensions, built and fuzzed to parse pathological input in linear time
(Python-Markdown's regex inline patterns took a minute on 20,000 ``[``;
markdown-it-py, tried next, took 1.5 s on 25,000 ``![``). It is no sanitizer
(raw HTML passes through it, on purpose), so nh3 always runs on its output. The
result is stored beside the source as ``body_html``.

Two things cmark-gfm does not bound are bounded here, on its output, before nh3:

* Depth. cmark nests as deep as the input asks (50,000 ``>`` are 50,000 nested
  quotes), and html5ever, under nh3, checks its stack of open elements on every
  tag: 50,000 nested quotes took nh3 26 s. Output nested past ``MAX_HTML_DEPTH``
  is rendered again without raw HTML, and every tag past the limits is left out
  (its text stays); quotes and lists past ``MAX_CONTAINERS`` set
  ``Rendered.too_deep``, which the board turns into a form error.
* Table padding. cmark-gfm pads short rows to the header's width, up to 524,288
  cells (half a second, 5 MB of HTML); a table that would gain more than
  ``MAX_AUTOCOMPLETED_CELLS`` is shown as text (``_tables_capped``).

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
from itertools import accumulate, repeat
from operator import add, and_, le, lt, mul
from urllib.parse import unquote, urlsplit

import nh3
from cmarkgfm import cmark
from flask import current_app, has_app_context, has_request_context, request

EMBED_KINDS = ("product", "groupbuy", "snap", "event", "auction", "guess")
EMBED_PATTERN = r"\[\[(product|groupbuy|snap|event|auction|guess):([0-9]{1,9})\]\]"
EMBED_RE = re.compile(EMBED_PATTERN)
MENTION_RE = re.compile(r"(?<![\w@/])@([A-Za-z0-9][A-Za-z0-9_-]{1,30}[A-Za-z0-9])\b")
PROFILE_PATH = "/u/{}"  # accounts.profile; a constant so rendering needs no request
MAX_EMBEDS = 20
MENTION_LOOKUP_MAX = 50  # names looked up per body; any further @name stays text

# How deep quotes and lists may nest, counted as markdown-it and CommonMark's preset
# did: a quote is one level, a list two (the list and its item). Past it the deeper
# quote and list tags are left out and ``Rendered.too_deep`` says so, so a form can
# refuse the body (the board asks to keep them under MAX_NESTING // 2 levels).
MAX_NESTING = 20
MAX_CONTAINERS = MAX_NESTING - 2
CONTAINER_TAGS = frozenset({"blockquote", "ul", "ol", "li"})
# Cells a table may gain by padding short rows to the header's width (cmark-gfm's own
# cap is 524,288): a 3,000-column header over 10,000 "x" lines.
MAX_AUTOCOMPLETED_CELLS = 4096
# How deep the HTML handed to nh3 may nest. html5ever checks the stack of open elements
# on every tag, so 10,000 nested ``<div>`` cost it half a second and 50,000 nested
# quotes 26 s; a body whose raw HTML would nest deeper is rendered without its raw
# HTML, and Markdown's own tags past it are left out.
MAX_HTML_DEPTH = 100

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


# --- Markdown -> HTML -----------------------------------------------------------------
# CommonMark plus GFM tables, ~~strikethrough~~ and bare-URL links; a newline is a line
# break, as it always was here. No tagfilter: nh3 sanitizes. No tasklist: its
# checkboxes are <input>s, which nh3 drops, and "[ ]" then reads better as typed.
_OPTIONS = cmark.Options.CMARK_OPT_HARDBREAKS
_EXTENSIONS = ("table", "strikethrough", "autolink")


def _cmark(text: str, raw_html: bool) -> str:
    """Raw HTML passes through (nh3 keeps the allowlisted part) unless ``raw_html`` is
    False, when cmark leaves each piece out; cmark's own output is balanced."""
    options = _OPTIONS | (cmark.Options.CMARK_OPT_UNSAFE if raw_html else 0)
    return cmark.markdown_to_html_with_extensions(text, options=options, extensions=_EXTENSIONS)


_LINE_END_RE = re.compile(r"\r\n|\r|\n")  # cmark's line endings
_DELIMITER_CHARS = "|-: \t"  # what a table's delimiter row ("|---|:-:|") is made of


def _cells_at_least(line: str) -> int:
    """About how many cells ``line`` makes as a table row: one more than its unescaped
    pipes, less the leading and trailing ones (counted low, so padding counts high)."""
    pipes = line.count("|") - line.count("\\|")
    inner = line.strip(" \t>")
    return max(1, pipes + 1 - inner.startswith("|") - inner.endswith("|"))


def _tables_capped(text: str) -> str:
    """``text`` with every table that would be padded past MAX_AUTOCOMPLETED_CELLS
    turned into text, by escaping its delimiter row's first "-" (one pass over lines).

    A table runs from its delimiter row to the next blank line; each row gains the cells
    it lacks up to the delimiter row's count. Lines ending like a delimiter row are
    taken for one (inside quotes and list items too), and a run of lines is judged by
    the widest of them, so the count errs high: a real table is never padded past it.
    """
    if "|" not in text or "-" not in text:
        return text
    lines = _LINE_END_RE.split(text)
    capped: list[int] = []
    run: list[int] = []
    columns = padding = 0
    for index, line in enumerate(lines + [""]):
        if not line.strip(" \t"):
            if padding > MAX_AUTOCOMPLETED_CELLS:
                capped += run
            run, columns, padding = [], 0, 0
            continue
        if columns:
            padding += max(0, columns - _cells_at_least(line))
        tail = line[len(line.rstrip(_DELIMITER_CHARS)) :]
        if "-" in tail and "|" in tail:
            run.append(index)
            columns = max(columns, tail.count("|") + 1)
    if not capped:
        return text
    for index in capped:
        line = lines[index]
        cut = len(line.rstrip(_DELIMITER_CHARS))
        lines[index] = line[:cut] + line[cut:].replace("-", "\\-", 1)
    return "\n".join(lines)


# A line may open at most MAX_CONTAINERS quotes and list items by its own markers
# (">>>>", "- - - x"): cmark would nest 50,000 deep on 50,000 ">", 1.3 MB of tags.
# The next marker is escaped, so the rest of the line is text; the body is too deep.
_DEEP_PREFIX_RE = re.compile(
    r"^(?>[ \t]*+(?:>|[-*+](?=[ \t]|$)|[0-9]{1,9}[.)](?=[ \t]|$)))"
    + f"{{{MAX_CONTAINERS}}}"
    + r"[ \t]*+(?=>|[-*+](?:[ \t]|$)|[0-9]{1,9}[.)](?:[ \t]|$))",
    re.MULTILINE,
)
_THEMATIC_BREAK_RE = re.compile(r"[ \t>]*+(?:(?:-[ \t]*+){3,}|(?:\*[ \t]*+){3,}|(?:_[ \t]*+){3,})$")


def _deep_lines_capped(text: str) -> tuple[str, bool]:
    capped = False

    def cap(match: re.Match) -> str:
        nonlocal capped
        line_end = text.find("\n", match.end())
        line = text[match.start() : line_end if line_end >= 0 else len(text)]
        if _THEMATIC_BREAK_RE.match(line.rstrip("\r")):  # "- - - - ..." is a rule
            return match.group(0)
        capped = True
        return match.group(0) + "\\"

    text = _DEEP_PREFIX_RE.sub(cap, text)
    return text, capped


_TAG_RE = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)")
_VOID_TAGS = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "keygen",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    ]
)


class _Steps(dict):
    """How a tag moves the depth, by what ``_NAME_RE`` captured ("li", "/li", "br"):
    +1 opens, -1 closes, 0 for void tags and for tags outside ``counted``."""

    def __init__(self, counted: frozenset[str] | None = None):
        super().__init__()
        self.counted = counted

    def __missing__(self, key: str) -> int:
        name = key.removeprefix("/").lower()
        if name in _VOID_TAGS or (self.counted is not None and name not in self.counted):
            step = 0
        else:
            step = -1 if key.startswith("/") else 1
        if len(self) < 1000:  # raw HTML may name any tag; remember the usual ones
            self[key] = step
        return step


_NAME_RE = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*")
_STEPS = _Steps()
_CONTAINER_STEPS = _Steps(CONTAINER_TAGS)


def _deepest(names: list[str], steps: _Steps) -> int:
    """How deep balanced tags ``names`` nest (stray closers would make it read low)."""
    return max(accumulate(map(steps.__getitem__, names), initial=0))


def html_depth(html: str, stop_past: int | None = None) -> int:
    """An upper bound on how deep ``html`` nests: open tags not yet closed, at most.

    A closing tag only counts when a tag of its name is open, so stray ``</span>``s
    cannot hide a tower of ``<div>``s. One pass, linear in the input; it stops early
    once the depth is past ``stop_past``.
    """
    open_counts: dict[str, int] = {}
    depth = deepest = 0
    for match in _TAG_RE.finditer(html):
        name = match.group(2).lower()
        if match.group(1):
            if open_counts.get(name):
                open_counts[name] -= 1
                depth -= 1
        elif name not in _VOID_TAGS:
            open_counts[name] = open_counts.get(name, 0) + 1
            depth += 1
            deepest = max(deepest, depth)
            if stop_past is not None and deepest > stop_past:
                break
    return deepest


def _shallow_enough(html: str, names: list[str], text: str) -> bool:
    """Whether ``html`` (from ``text``, raw HTML and all; ``names`` its tags) nests at
    most MAX_HTML_DEPTH.

    Counted at C speed first: each closing tag the user typed (each "</" in ``text``)
    can hide at most one level from that count; only past that, tag by tag.
    """
    if _deepest(names, _STEPS) + text.count("</") <= MAX_HTML_DEPTH:
        return True
    return "</" in text and html_depth(html, stop_past=MAX_HTML_DEPTH) <= MAX_HTML_DEPTH


_OMITTED = "<!-- raw HTML omitted -->"  # what cmark leaves for raw HTML it leaves out
_SPLIT_TAGS_RE = re.compile(r"(<(/?[a-z][a-z0-9]*)[^>]*>)")  # cmark escapes < and > else


def _shallowed(html: str) -> tuple[str, bool]:
    """Balanced ``html`` (cmark's own output) without the tags nested past the limits:
    MAX_HTML_DEPTH for every tag, MAX_CONTAINERS for quotes and lists (a list and its
    item count one each); their text stays. Also whether a quote or list was cut.

    Whole-list operations (accumulate, map), so 100,000 tags take milliseconds.
    """
    parts = _SPLIT_TAGS_RE.split(html.replace(_OMITTED, ""))  # text, tag, name, text, ..
    names = parts[2::3]
    steps = list(map(_STEPS.__getitem__, names))
    container_steps = list(map(_CONTAINER_STEPS.__getitem__, names))
    # A tag's level: the depth inside it for an opening tag, the same for its closer.
    levels = map(add, accumulate(steps), map(lt, steps, repeat(0)))
    container_levels = list(
        map(add, accumulate(container_steps), map(lt, container_steps, repeat(0)))
    )
    keep = map(
        and_,
        map(le, levels, repeat(MAX_HTML_DEPTH)),
        map(le, container_levels, repeat(MAX_CONTAINERS)),
    )
    parts[1::3] = list(map(mul, parts[1::3], keep))
    parts[2::3] = [""] * len(names)
    return "".join(parts), max(container_levels, default=0) > MAX_CONTAINERS


def _to_html(text: str) -> tuple[str, bool]:
    """HTML for nh3, nested at most MAX_HTML_DEPTH deep, and whether quotes or lists
    nest past MAX_CONTAINERS."""
    # A lone surrogate (JSON may carry one) has no UTF-8 form; cmark reads UTF-8.
    text = text.encode("utf-8", "replace").decode("utf-8")
    text, capped = _deep_lines_capped(_tables_capped(text))
    html = _cmark(text, raw_html=True)
    names = _NAME_RE.findall(html)
    if _shallow_enough(html, names, text):
        return html, capped or _deepest(names, _CONTAINER_STEPS) > MAX_CONTAINERS
    if "<" in text:  # raw HTML may be what nests, and is not balanced: leave it out
        html = _cmark(text, raw_html=False)
    html, too_deep = _shallowed(html)
    return html, capped or too_deep


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
    from . import signals

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
    raw, too_deep = _to_html(text or "")
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
