"""The one markup pipeline: Markdown -> nh3 allowlist -> embed placeholders."""

from html.parser import HTMLParser

import pytest

from forum.markup import EmbedRef, render, safe_url

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
