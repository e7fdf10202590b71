"""Markdown -> HTML for nh3: cmark-gfm, with what it does not bound bounded here.

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
"""

import re
from itertools import accumulate, repeat
from operator import add, and_, le, lt, mul

from cmarkgfm import cmark

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


def to_html(text: str) -> tuple[str, bool]:
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
