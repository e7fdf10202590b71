"""The one markup pipeline: cmark-gfm -> nh3 allowlist -> embeds and mentions."""

from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser

import pytest

from forum.config import Defaults
from forum.markup import (
    ALLOWED_TAGS,
    MAX_AUTOCOMPLETED_CELLS,
    MAX_CONTAINERS,
    MAX_HTML_DEPTH,
    MAX_NESTING,
    EmbedRef,
    html_depth,
    render,
    safe_url,
)
from tests.board.pathological_markdown import CASES

XSS_CASES = {
    "script tag": "<script>alert(1)</script>hello",
    "script in markdown html block": "<div><script>alert(1)</script></div>",
    "img onerror": '<img src="x" onerror="alert(1)">',
    "svg onload": '<svg onload="alert(1)"><circle r="1"/></svg>',
    "iframe": '<iframe src="https://evil.example"></iframe>',
    "style tag": "<style>body{display:none}</style>",
    "form and input": '<form action="/logout"><input name="x"><button>go</button></form>',
    "math": "<math><mtext>x</mtext></math>",
    "event handler on allowed tag": '<a href="https://ok.example" onclick="alert(1)">x</a>',
    "style attribute": '<p style="position:fixed;top:0">x</p>',
}


@pytest.mark.parametrize("source", XSS_CASES.values(), ids=XSS_CASES.keys())
def test_dangerous_html_is_neutralised(source):
    html = render(source).html.lower()
    for needle in (
        "<script",
        "onerror",
        "onload",
        "onclick",
        "<svg",
        "<iframe",
        "<style",
        "<form",
        "<input",
        "<button",
        "<math",
        "style=",
        "alert(1)</script",
    ):
        assert needle not in html, (needle, html)


JS_LINKS = {
    "plain": "[x](javascript:alert(1))",
    "upper case": "[x](JAVASCRIPT:alert(1))",
    "entity encoded": '<a href="&#106;avascript:alert(1)">x</a>',
    "hex entity colon": '<a href="javascript&#x3A;alert(1)">x</a>',
    "tab inside": '<a href="java&#x09;script:alert(1)">x</a>',
    "newline inside": '<a href="java&#10;script:alert(1)">x</a>',
    "zero width space": "[x](java\u200bscript:alert(1))",
    "zero width joiner": '<a href="java\u200dscript:alert(1)">x</a>',
    "leading space and control": '<a href=" \x01javascript:alert(1)">x</a>',
    "fullwidth letters (NFKC)": '<a href="ｊａｖａｓｃｒｉｐｔ:alert(1)">x</a>',
    "data uri": '<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>',
    "vbscript": '<a href="vbscript:msgbox(1)">x</a>',
    "image source": '<img src="javascript:alert(1)">',
    "attr_list": "[x](https://ok.example){: onclick=alert(1) }",
}


class _Attributes(HTMLParser):
    def __init__(self):
        super().__init__()
        self.attrs: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        self.attrs += [(name, value or "") for name, value in attrs]


def attributes(html: str) -> list[tuple[str, str]]:
    parser = _Attributes()
    parser.feed(html)
    return parser.attrs


@pytest.mark.parametrize("source", JS_LINKS.values(), ids=JS_LINKS.keys())
def test_script_links_never_survive(source):
    for name, value in attributes(render(source).html):
        assert not name.startswith("on"), name
        if name in ("href", "src"):
            assert value.startswith(("https:", "http:", "mailto:", "/")), value


def test_safe_url_rules():
    assert safe_url("https://example.com/a?b=c") == "https://example.com/a?b=c"
    assert safe_url("mailto:me@example.com") == "mailto:me@example.com"
    assert safe_url("/t/1#post-2") == "/t/1#post-2"
    assert safe_url("ftp://example.com") is None
    assert safe_url("java\tscript:alert(1)") is None
    assert safe_url("\u202ejavascript:alert(1)") is None
    assert safe_url("   ") is None


def test_benign_markdown_keeps_its_formatting():
    source = (
        "# Title\n\n**bold** and *em* and `code`\n\n- one\n- two\n\n1. first\n\n"
        "> quoted\n\n```python\nprint('hi')\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        "[a link](https://example.com) ![pic](/static/favicon.svg)"
    )
    html = render(source).html
    for fragment in (
        "<h1>Title</h1>",
        "<strong>bold</strong>",
        "<em>em</em>",
        "<code>code</code>",
        "<ul>",
        "<ol>",
        "<blockquote>",
        "<pre><code",
        "<table>",
        "<td>1</td>",
        'src="/static/favicon.svg"',
    ):
        assert fragment in html, fragment


def test_links_get_rel_nofollow_ugc_noopener():
    html = render("[site](https://example.com)").html
    assert 'rel="nofollow ugc noopener"' in html
    assert 'href="https://example.com"' in html


def test_embeds_become_placeholders_and_are_listed_once():
    rendered = render("Look:\n\n[[product:42]]\n\nand inline [[event:5]] too, again [[product:42]]")
    assert '<plaza-embed kind="product" ref="42"></plaza-embed>' in rendered.html
    assert '<plaza-embed kind="event" ref="5"></plaza-embed>' in rendered.html
    assert rendered.embeds == [EmbedRef("product", 42), EmbedRef("event", 5)]


def test_embeds_in_code_are_left_as_text():
    rendered = render("`[[product:1]]`\n\n```\n[[snap:2]]\n```")
    assert rendered.embeds == []
    assert "plaza-embed" not in rendered.html
    assert "[[product:1]]" in rendered.html


def test_users_cannot_forge_widget_placeholders_or_widget_html():
    forged = (
        '<plaza-embed kind="product" ref="1"></plaza-embed>'
        '<div class="widget" data-live-room="offer:product:1"><a href="/checkout">Buy</a></div>'
        "PLZEMB0000000000000000N0Z"
    )
    rendered = render(forged)
    assert "<plaza-embed" not in rendered.html
    assert "data-live-room" not in rendered.html
    assert 'class="widget"' not in rendered.html
    assert rendered.embeds == []


def test_unknown_embed_kinds_and_huge_ids_stay_text():
    rendered = render("[[coupon:1]] [[product:12345678901]]")
    assert rendered.embeds == []


def test_mentions_are_collected_outside_code():
    rendered = render("hi @Alice and @bob_2, not `@carol` nor email x@dave.com")
    assert rendered.mentions == ["alice", "bob_2"]


# --- linear-time parsing, depth limits ------------------------------------------------


def test_thousand_nested_brackets_render_as_text_not_a_recursion_error():
    source = "[" * 1000 + "a" + "]" * 1000 + "(https://example.com)"
    html = render(source).html
    assert html.count("[") >= 999 and "a" in html


def test_quotes_and_lists_1000_deep_render_shortened_and_say_so():
    for source in ("> " * 1000 + "x", "- " * 1000 + "x", "1. " * 1000 + "x"):
        rendered = render(source)
        assert rendered.too_deep, source[:10]
        assert rendered.html.count("<blockquote>") + rendered.html.count("<li>") <= MAX_NESTING


def test_ordinary_nesting_is_not_too_deep():
    source = "> quote\n>> deeper\n\n- a\n  - b\n    - c\n      - d\n\n***bold em***"
    assert not render(source).too_deep


def test_raw_html_nested_past_the_limit_is_left_out():
    rendered = render("<div>" * 5000 + "x\n\n**after**")
    assert "<div>" not in rendered.html and "<strong>after</strong>" in rendered.html
    assert html_depth(render("<div>" * 20 + "x").html) == 20  # shallow raw HTML still works


def test_html_depth_is_not_fooled_by_stray_closing_tags():
    assert html_depth("<div></span>" * 50) == 50
    assert html_depth("<div></div>" * 50) == 1
    assert html_depth("<p><br><img src=x></p>") == 1


def test_padding_short_table_rows_is_capped():
    header = "|" + "a|" * 3000
    source = header + "\n" + "|" + "-|" * 3000 + "\n" + "x\n" * 2000
    assert render(source).html.count("<td") <= MAX_AUTOCOMPLETED_CELLS + 3000


def test_padding_a_table_inside_a_quote_is_capped_too():
    header = "> |" + "a|" * 3000
    source = header + "\n> |" + "-|" * 3000 + "\n" + "> x\n" * 2000
    assert render(source).html.count("<td") <= MAX_AUTOCOMPLETED_CELLS + 3000


def test_a_wide_table_with_full_rows_is_still_a_table():
    source = "|" + "a|" * 200 + "\n|" + "-|" * 200 + "\n" + ("|" + "1|" * 200 + "\n") * 50
    assert render(source).html.count("<td>1</td>") == 200 * 50


def test_fifty_thousand_quote_markers_are_too_deep_and_cut_short():
    rendered = render(">" * 50_000 + " x")
    assert rendered.too_deep
    assert rendered.html.count("<blockquote>") == MAX_CONTAINERS
    assert html_depth(rendered.html) <= MAX_CONTAINERS + 1


def test_a_rule_drawn_with_many_spaced_dashes_stays_a_rule():
    rendered = render("- " * 40)
    assert rendered.html == "<hr>" and not rendered.too_deep


def test_a_lone_surrogate_renders_instead_of_failing():
    assert "a" in render("a\ud800b").html


def test_mentions_and_embeds_inside_attributes_are_left_alone():
    rendered = render('[x](https://a.example "@bob [[product:1]]") ![@carol](/static/p.png)')
    assert rendered.mentions == [] and rendered.embeds == []
    assert 'title="@bob [[product:1]]"' in rendered.html and 'alt="@carol"' in rendered.html


def test_nested_emphasis_past_the_depth_limit_keeps_its_text():
    source = "*a **b " * 500 + "c" + " b** a*" * 500
    html = render(source).html
    assert html_depth(html) <= MAX_HTML_DEPTH and html.count("a") >= 1000


def test_table_alignment_survives_sanitizing():
    html = render("| a | b |\n|--:|:-:|\n| 1 | 2 |").html
    assert '<td align="right">1</td>' in html and '<th align="center">b</th>' in html


@pytest.mark.parametrize("name", sorted(CASES))
def test_pathological_corpus_at_post_max_length_renders(name):
    source = CASES[name](Defaults.POST_MAX_LENGTH)
    # A worker thread with a generous limit only so a regression fails instead of hanging;
    # how fast it renders is measured by the bench (python -m tests.bench markup).
    with ThreadPoolExecutor(1) as pool:
        rendered = pool.submit(render, source).result(timeout=60)
    parser = _Tags()
    parser.feed(rendered.html)
    assert parser.tags <= ALLOWED_TAGS | {"plaza-embed"}, parser.tags - ALLOWED_TAGS
    assert parser.depth_max <= MAX_HTML_DEPTH
    assert len(rendered.html) < 20 * len(source)


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: set[str] = set()
        self.depth = self.depth_max = 0

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        if tag not in ("br", "hr", "img"):
            self.depth += 1
            self.depth_max = max(self.depth_max, self.depth)

    def handle_endtag(self, tag):
        self.depth -= 1


# --- links: bare URLs, mentions, images ----------------------------------------------


def test_bare_urls_become_links():
    html = render("see https://example.com/a?b=1 and www.example.org").html
    assert '<a href="https://example.com/a?b=1" rel="nofollow ugc noopener">' in html
    assert '<a href="http://www.example.org" rel="nofollow ugc noopener">' in html


def test_mentions_link_to_the_profile_and_are_listed():
    rendered = render("thanks @Alice_B, and [see @carol](https://x.example)")
    assert '<a href="/u/Alice_B" rel="nofollow ugc noopener">@Alice_B</a>' in rendered.html
    assert rendered.html.count("<a ") == 2  # no link inside a link
    assert rendered.mentions == ["alice_b", "carol"]


SITE_IMAGES_OK = [
    "/static/favicon.svg",
    "/images/abc123.png",
    "/events/covers/ab12.jpg",
    "/media/" + "ab" * 16 + ".png",
]
EXTERNAL_IMAGES = ["https://cdn.example.com/pic.png", "//cdn.example.com/pic.png"]
SITE_IMAGES_REFUSED = [
    "/go/tok123",
    "/api/v1/posts/1/like",
    "/logout",
    "/login",
    "/p/1/delete",
    "go/tok123",
    "../go/tok123",
    "/static/../go/tok123",
    "/static/%2e%2e/go/tok123",
    "/\\localhost/go/tok123",
    "https://localhost/go/tok123",
    "http://LOCALHOST./logout",
    "//localhost/go/tok123",
    "mailto:x@example.com",
]


@pytest.mark.parametrize("src", SITE_IMAGES_OK)
def test_images_may_show_site_image_paths(app, src):
    with app.test_request_context("/", base_url="http://localhost"):
        # An uploaded picture (/media/) shows its thumbnail, linked to the full size.
        shown = src.replace("/media/", "/media/thumbs/") if src.startswith("/media/") else src
        for source in (f"![pic]({src})", f'<img src="{src}" alt="pic">'):
            found = attributes(render(source).html)
            assert found.count(("src", shown)) == 1, source
            assert shown == src or ("href", src) in found, source


@pytest.mark.parametrize("src", EXTERNAL_IMAGES)
def test_external_images_become_links_the_csp_would_block_them(app, src):
    with app.test_request_context("/", base_url="http://localhost"):
        for source in (f"![pic]({src})", f'<img src="{src}" alt="pic">'):
            found = attributes(render(source).html)
            assert not [v for n, v in found if n == "src"], source
            assert ("href", src) in found, source


@pytest.mark.parametrize("src", SITE_IMAGES_REFUSED)
def test_images_never_point_at_other_site_routes(app, src):
    with app.test_request_context("/", base_url="http://localhost"):
        for source in (f"![pic](<{src}>)", f'<img src="{src}" alt="pic">'):
            assert not [v for n, v in attributes(render(source).html) if n == "src"], source
