"""One plain-text excerpt (``markup.excerpt``) for profiles, notifications and labels:
never raw Markdown, widget tokens or HTML."""

import pytest

from forum import markup
from forum.accounts.models import User
from forum.board import service as board
from forum.board.models import Thread
from forum.extensions import db
from tests.conftest import app_context, login

HOSTILE = (
    "**Bold** and _soft_ [[event:1]] <script>alert(1)</script> <b onclick=x>b</b> "
    "&lt;i&gt; `code` [link](javascript:alert(1)) ![img](https://evil.example/x.png)"
)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("**Bold**, then _soft_.", "Bold, then soft."),
        ("Come along: [[event:1]]", "Come along:"),
        ("# Title\n\n> quoted\n\n- one\n- two", "Title quoted one two"),
        ("<script>alert(1)</script>hi", "hi"),
        ("a &amp; b &lt;c&gt;", "a & b <c>"),
    ],
)
def test_excerpts_are_plain_text(source, expected):
    assert markup.excerpt(markup.render(source).html) == expected


def test_a_long_excerpt_is_cut_at_a_word_with_an_ellipsis():
    text = markup.excerpt(markup.render("word " * 100).html, 40)
    assert len(text) <= 40 and text.endswith("word…") and "  " not in text


def test_hostile_text_leaves_no_markup_in_any_excerpt():
    text = markup.excerpt(markup.render(HOSTILE).html)
    for raw in ("**", "[[", "<", "javascript", "onclick", "_soft_", "`"):
        assert raw not in text.replace("<i>", ""), raw
    assert text.startswith("Bold and soft")


def test_profiles_notifications_show_excerpts_not_markdown(app, make_user, make_thread):
    opener, alice = make_user("opener"), make_user("alice")
    thread_id = make_thread(opener, title="Knives")
    with app_context(app), app.test_request_context("/"):
        board.reply(db.session.get(User, alice.id), db.session.get(Thread, thread_id), HOSTILE)
        db.session.commit()
    client = app.test_client()
    login(client, opener)
    for path in ("/u/alice", "/notifications/"):
        page = client.get(path).get_data(as_text=True)
        assert "Bold and soft" in page, path
        assert "**Bold**" not in page and "[[event:1]]" not in page, path
        assert "<script>alert" not in page, path
