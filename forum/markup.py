"""The one module that turns user text into HTML.

Markdown (Python-Markdown) -> HTML -> nh3 against an allowlist -> embed
placeholders. Python-Markdown is no sanitizer (raw HTML, attr_list and
``javascript:`` links pass through it), so nh3 always runs on its final output.
The result is stored beside the source as ``body_html``.

Embeds (``[[product:42]]``) are recognised by a Markdown inline pattern (so code
spans and blocks are left alone) and become an unguessable text token; after
sanitizing, each token becomes ``<plaza-embed kind=.. ref=..></plaza-embed>``.
nh3 never allows that tag, so any placeholder in stored HTML was put there by
this module; ``forum.embeds`` swaps placeholders for trusted widget templates
when the page is rendered.
"""

import re
import secrets
import unicodedata
import xml.etree.ElementTree as etree
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import markdown
import nh3
from markdown.extensions import Extension
from markdown.inlinepatterns import InlineProcessor
from markupsafe import Markup

EMBED_KINDS = ("product", "groupbuy", "snap", "event")
EMBED_PATTERN = r"\[\[(product|groupbuy|snap|event):([0-9]{1,9})\]\]"
MENTION_RE = re.compile(r"(?<![\w@/])@([A-Za-z0-9][A-Za-z0-9_-]{1,30}[A-Za-z0-9])\b")
MAX_EMBEDS = 20

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


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
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


class _EmbedInline(InlineProcessor):
    def __init__(self, pattern, md, token: str, found: list):
        super().__init__(pattern, md)
        self.token = token
        self.found = found

    def handleMatch(self, m, data):  # noqa: N802 (Markdown's API)
        ref = EmbedRef(m.group(1), int(m.group(2)))
        if len(self.found) >= MAX_EMBEDS:
            return m.group(0), m.start(0), m.end(0)
        self.found.append(ref)
        el = etree.Element("span")
        el.text = f"{self.token}{len(self.found) - 1}Z"
        return el, m.start(0), m.end(0)


class _EmbedExtension(Extension):
    def __init__(self, token: str, found: list):
        super().__init__()
        self.token = token
        self.found = found

    def extendMarkdown(self, md):  # noqa: N802
        # Below "backtick" (190) so code spans are left alone, above "link" (160).
        md.inlinePatterns.register(
            _EmbedInline(EMBED_PATTERN, md, self.token, self.found), "plaza_embed", 185
        )


def placeholder(ref: EmbedRef) -> str:
    return f'<plaza-embed kind="{ref.kind}" ref="{ref.id}"></plaza-embed>'


PLACEHOLDER_RE = re.compile(r'<plaza-embed kind="([a-z]+)" ref="([0-9]+)"></plaza-embed>')


def render(text: str) -> Rendered:
    """Render Markdown ``text`` to sanitized HTML with embed placeholders."""
    token = "PLZEMB" + secrets.token_hex(8) + "N"
    found: list[EmbedRef] = []
    md = markdown.Markdown(
        extensions=["fenced_code", "tables", "sane_lists", "nl2br", _EmbedExtension(token, found)],
        output_format="html",
    )
    html = sanitize(md.convert(text or ""))
    # A token alone in its paragraph becomes a block widget; otherwise it sits inline.
    for index, ref in enumerate(found):
        marker = f"<span>{token}{index}Z</span>"
        html = html.replace(f"<p>{marker}</p>", placeholder(ref)).replace(marker, placeholder(ref))
    # Deduplicate while keeping order: a widget listed twice is still one embed.
    embeds = list(dict.fromkeys(found))
    mentions = list(dict.fromkeys(m.lower() for m in MENTION_RE.findall(_strip_code(text or ""))))
    return Rendered(html=html, embeds=embeds, mentions=mentions)


_CODE_RE = re.compile(r"```.*?```|`[^`\n]*`", re.S)


def _strip_code(text: str) -> str:
    return _CODE_RE.sub(" ", text)


def preview(text: str) -> Markup:
    """Sanitized HTML for the composer's preview (widgets shown as placeholders)."""
    from .embeds import expand

    return expand(render(text).html, context=None)
