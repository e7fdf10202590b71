"""The one module that turns user text into HTML.

Markdown (markdown-it-py, CommonMark) -> HTML -> nh3 against an allowlist ->
embed placeholders. markdown-it-py is built for untrusted input: its parsing is
linear in the input (Python-Markdown's regex inline patterns were not: 20,000
``[`` took a minute), and ``MAX_NESTING`` bounds how deep blocks and inlines
may go, so no body can recurse its way into a RecursionError. It is no
sanitizer (raw HTML passes through it), so nh3 always runs on its output.
The result is stored beside the source as ``body_html``.

Three inline rules of our own ride on the parser, so code spans and blocks are
left alone: embeds (``[[product:42]]``) become an unguessable text token and,
after sanitizing, ``<plaza-embed kind=.. ref=..></plaza-embed>`` (nh3 never
allows that tag, so any placeholder in stored HTML was put there by this
module; ``forum.embeds`` swaps placeholders for trusted widget templates when
the page is rendered); ``@name`` becomes a link to the member's profile and is
listed in ``Rendered.mentions`` for notifications; bare URLs become links
(linkify-it-py).

Images may only show the site's own image paths (``SITE_IMAGE_PATHS``) or
external http(s) hosts: any other same-site URL (``/go/..``, ``/logout``, an
API route) would be fetched by every viewer's browser with their cookies.
"""

import importlib
import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

import nh3
from flask import current_app, has_app_context, has_request_context, request
from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markupsafe import Markup

EMBED_KINDS = ("product", "groupbuy", "snap", "event")
EMBED_PATTERN = r"\[\[(product|groupbuy|snap|event):([0-9]{1,9})\]\]"
EMBED_RE = re.compile(EMBED_PATTERN)
MENTION_RE = re.compile(r"(?<![\w@/])@([A-Za-z0-9][A-Za-z0-9_-]{1,30}[A-Za-z0-9])\b")
PROFILE_PATH = "/u/{}"  # accounts.profile; a constant so rendering needs no request
MAX_EMBEDS = 20

# How deep blocks (quotes, lists) and inlines (emphasis, links) may nest: CommonMark's
# preset value. Past it markdown-it stops descending: inline markup stays text, and a
# block's deeper content is left out, which ``Rendered.too_deep`` reports so a form can
# refuse the body. Link labels cost up to MAX_NESTING steps per "[", so keep it small.
MAX_NESTING = 20
# Cells a table may gain by padding short rows to the header's width (markdown-it's own
# cap is 65,536, seconds of work): a 3,000-column header over 10,000 "x" lines.
MAX_AUTOCOMPLETED_CELLS = 4096
# How deep the HTML handed to nh3 may nest. html5ever checks the stack of open elements
# on every tag, so 10,000 nested raw ``<div>`` cost it half a second; a body whose raw
# HTML would nest deeper is rendered with its raw HTML escaped instead.
MAX_HTML_DEPTH = 100

# Same-site paths an image may show: static files, shop images, event covers. Any other
# same-site URL in an <img> would be requested by every viewer, with their cookies.
SITE_IMAGE_PATHS = ("/static/", "/images/", "/events/covers/")

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


def _visible_url(value: str) -> str:
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


# --- our inline rules -----------------------------------------------------------------
# Each looks only at the text at ``state.pos`` (a bounded regex match), so they keep
# the parser linear. ``state.env`` carries the per-render token and what was found.


def _embed_rule(state: StateInline, silent: bool) -> bool:
    if state.linkLevel > 0 or not state.src.startswith("[[", state.pos):
        return False
    match = EMBED_RE.match(state.src, state.pos, state.posMax)
    found: list[EmbedRef] = state.env["plaza_embeds"]
    if match is None or len(found) >= MAX_EMBEDS:
        return False
    if not silent:
        found.append(EmbedRef(match.group(1), int(match.group(2))))
        token = state.push("plaza_embed", "", 0)
        token.content = f"{state.env['plaza_token']}{len(found) - 1}Z"
    state.pos = match.end()
    return True


def _mention_rule(state: StateInline, silent: bool) -> bool:
    if state.src[state.pos] != "@":
        return False
    match = MENTION_RE.match(state.src, state.pos, state.posMax)  # the lookbehind sees src
    if match is None:
        return False
    if not silent:
        name = match.group(1)
        state.env["plaza_mentions"].append(name.lower())
        if state.linkLevel > 0:  # already inside a link's text: no link in a link
            state.push("text", "", 0).content = match.group(0)
        else:
            state.push("link_open", "a", 1).attrs = {"href": PROFILE_PATH.format(name)}
            state.push("text", "", 0).content = match.group(0)
            state.push("link_close", "a", -1)
    state.pos = match.end()
    return True


def _table_align(state) -> None:
    """markdown-it aligns cells with style=; nh3 drops style, so say it with align=."""
    for token in state.tokens:
        if token.type in ("th_open", "td_open") and token.attrs.get("style"):
            align = str(token.attrs.pop("style")).removeprefix("text-align:").strip()
            if align in ("left", "center", "right"):
                token.attrs["align"] = align


def _limit_inline_depth(state) -> None:
    """Emphasis pairs are matched after tokenizing, so maxNesting does not bound them:
    "*a **b *c ..." 7,000 deep would reach nh3 as 7,000 nested tags. Past MAX_NESTING
    an opener and its closer are shown as the text that was typed ("*", "**", "~~")."""
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        depth, flattened = 0, []
        for token in block.children:
            if token.nesting == 1:
                flat = depth >= MAX_NESTING
                flattened.append(flat)
                depth += 0 if flat else 1
            elif token.nesting == -1:
                flat = flattened.pop() if flattened else False
                depth -= 0 if flat else 1
            else:
                continue
            if flat:
                token.type, token.tag, token.nesting, token.attrs = "text", "", 0, {}
                token.content = token.markup


def _render_embed(self, tokens, idx, options, env) -> str:
    return f"<span>{tokens[idx].content}</span>"


# The module, not the rule function that rules_block re-exports under the same name.
_md_table = importlib.import_module("markdown_it.rules_block.table")
_md_table.MAX_AUTOCOMPLETED_CELLS = MAX_AUTOCOMPLETED_CELLS  # read at each table parse


def _parser(html: bool) -> MarkdownIt:
    md = MarkdownIt(
        "commonmark",
        {"html": html, "linkify": True, "breaks": True, "maxNesting": MAX_NESTING},
    )
    md.enable(["table", "strikethrough", "linkify"])
    # URLs are judged once, by nh3's attribute filter (safe_url, safe_image_url, after
    # NFKC and invisible-character stripping): a refused link keeps its text, unlinked,
    # rather than showing the "[x](javascript:...)" source.
    md.validateLink = lambda url: True
    md.inline.ruler.before("link", "plaza_embed", _embed_rule)
    md.inline.ruler.push("plaza_mention", _mention_rule)
    md.core.ruler.after("inline", "plaza_inline_depth", _limit_inline_depth)
    md.core.ruler.push("plaza_table_align", _table_align)
    md.add_render_rule("plaza_embed", _render_embed)
    return md


# Raw HTML is allowed (nh3 keeps the allowlisted part); the second parser escapes it,
# for bodies whose raw HTML nests deeper than MAX_HTML_DEPTH.
_MD = _parser(html=True)
_MD_NO_HTML = _parser(html=False)

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


def html_depth(html: str) -> int:
    """An upper bound on how deep ``html`` nests: open tags not yet closed, at most.

    A closing tag only counts when a tag of its name is open, so stray ``</span>``s
    cannot hide a tower of ``<div>``s. One pass, linear in the input.
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
    return deepest


def _raw_html(tokens) -> str:
    """The raw HTML a user typed, as markdown-it passed it through (blocks and inline)."""
    parts = []
    for token in tokens:
        if token.type == "html_block":
            parts.append(token.content)
        for child in token.children or ():
            if child.type == "html_inline":
                parts.append(child.content)
    return "".join(parts)


def _to_html(text: str) -> tuple[str, dict, bool]:
    for md in (_MD, _MD_NO_HTML):
        env = {"plaza_token": "PLZEMB" + secrets.token_hex(8) + "N", "plaza_embeds": [],
               "plaza_mentions": []}  # fmt: skip
        tokens = md.parse(text, env)
        # Markdown's own tags nest at most 2 * MAX_NESTING deep (blocks, then inlines);
        # raw HTML may add the rest of MAX_HTML_DEPTH, or it is shown escaped.
        if html_depth(_raw_html(tokens)) <= MAX_HTML_DEPTH - 2 * MAX_NESTING:
            break
    too_deep = any(token.level >= MAX_NESTING - 1 for token in tokens)
    return md.renderer.render(tokens, md.options, env), env, too_deep


def placeholder(ref: EmbedRef) -> str:
    return f'<plaza-embed kind="{ref.kind}" ref="{ref.id}"></plaza-embed>'


PLACEHOLDER_RE = re.compile(r'<plaza-embed kind="([a-z]+)" ref="([0-9]+)"></plaza-embed>')


def render(text: str) -> Rendered:
    """Render Markdown ``text`` to sanitized HTML with embed placeholders."""
    raw, env, too_deep = _to_html(text or "")
    html = sanitize(raw).rstrip("\n")
    token, found = env["plaza_token"], env["plaza_embeds"]
    # A token alone in its paragraph becomes a block widget; otherwise it sits inline.
    for index, ref in enumerate(found):
        marker = f"<span>{token}{index}Z</span>"
        html = html.replace(f"<p>{marker}</p>", placeholder(ref)).replace(marker, placeholder(ref))
    # Deduplicate while keeping order: a widget listed twice is still one embed.
    return Rendered(
        html=html,
        embeds=list(dict.fromkeys(found)),
        mentions=list(dict.fromkeys(env["plaza_mentions"])),
        too_deep=too_deep,
    )


def preview(text: "str | Rendered") -> Markup:
    """Sanitized HTML for the composer's preview (widgets link plainly, count nothing)."""
    from .embeds import expand

    rendered = text if isinstance(text, Rendered) else render(text)
    return expand(rendered.html, context=None)
