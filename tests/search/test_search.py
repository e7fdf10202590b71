"""Search: ranking, prefixes, plain-text snippets, every type and filter, what stays out.

Runs on SQLite (FTS5, bm25) and on PostgreSQL (stored weighted tsvector, GIN,
ts_rank_cd) alike: ``PLAZA_TEST_DATABASE_URL`` picks the database.
"""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from forum.accounts.models import User
from forum.board import service as board
from forum.board.models import Post
from forum.chat import service as chat
from forum.clock import now
from forum.errors import ValidationFailed
from forum.events import service as events
from forum.extensions import db
from forum.search import service
from forum.search.models import SearchDocument
from forum.search.schemas import SearchQuery
from tests.conftest import app_context


def found(app, q: str, viewer=None, **filters) -> list[tuple[str, int]]:
    with app_context(app), app.test_request_context("/"):
        who = db.session.get(User, viewer.id) if viewer else None
        page = service.search(SearchQuery(q=q, **filters), viewer=who, limit=50)
        return [(hit.type, hit.id) for hit in page.items]


def hits(app, q: str, viewer=None, **filters):
    with app_context(app), app.test_request_context("/"):
        who = db.session.get(User, viewer.id) if viewer else None
        return service.search(SearchQuery(q=q, **filters), viewer=who, limit=50).items


def reply(app, author, thread_id: int, body: str) -> int:
    with app_context(app), app.test_request_context("/"):
        post = board.reply(db.session.get(User, author.id), board.get_thread(thread_id), body)
        db.session.commit()
        return post.id


def first_post_id(app, thread_id: int) -> int:
    with app_context(app):
        return db.session.scalar(
            select(Post.id).where(Post.thread_id == thread_id, Post.position == 1)
        )


def test_ranking_puts_five_uses_above_one(app, make_user, make_thread):
    author = make_user("writer")
    thread = make_thread(author, title="Morning routines", body="How do you start the day?")
    once = reply(app, author, thread, "I have a percolator, and coffee after.")
    five = reply(
        app,
        author,
        thread,
        "The percolator: a percolator beats a kettle; my percolator is old, "
        "the percolator of my gran, a percolator forever.",
    )
    assert found(app, "percolator") == [("post", five), ("post", once)]


def test_a_title_match_ranks_above_a_body_match(app, make_user, make_thread):
    author = make_user("writer")
    in_body = make_thread(author, title="Kitchen questions", body="Which kettle descales best?")
    in_title = make_thread(author, title="Kettle descaling", body="Vinegar or citric acid?")
    assert found(app, "kettle") == [("thread", in_title), ("thread", in_body)]


def test_the_last_word_is_a_prefix_and_only_the_last(app, make_user, make_thread):
    author = make_user("writer")
    thread = make_thread(author, title="Espresso at home", body="Dialling in a grinder")
    assert found(app, "espress") == [("thread", thread)]
    assert found(app, "grinder espress") == [("thread", thread)]
    assert found(app, "espress grinder") == []  # an earlier word is a whole word
    assert found(app, "grind") == [("thread", thread)]


def test_snippets_are_plain_text_with_marks_never_markdown(app, make_user, make_thread):
    author = make_user("writer")
    make_thread(
        author,
        title="Markdown **title**",
        body="# Heading\n\n**Bold** _sloped_ [a link](https://example.com/x) `inline` "
        "[[product:4]] and the word teapot.\n\n```\ncode teapot\n```\n> quoted",
    )
    (hit,) = hits(app, "teapot")
    assert "<mark>teapot</mark>" in hit.snippet
    for markdown in ("**", "[[", "](", "# ", "```", "&gt; ", "_sloped_"):
        assert markdown not in hit.snippet
    assert "Bold" in hit.snippet and "a link" in hit.snippet


def test_hostile_text_comes_back_escaped_with_only_marks_as_tags(app, make_user, make_thread):
    author = make_user("writer")
    make_thread(
        author,
        title="<script>alert(1)</script> samovar",
        body="samovar &lt;b&gt; <img src=x onerror=alert(1)> <b>bold</b> \x02samovar\x03 "
        "`<i>code</i>` samovar",
    )
    (hit,) = hits(app, "samovar")
    for html in (hit.title, hit.snippet):
        tags = re.findall(r"</?[a-zA-Z][^>]*>", html)
        assert tags and set(tags) <= {"<mark>", "</mark>"}, html
    assert "&lt;script&gt;" in hit.title
    assert "&lt;i&gt;code&lt;/i&gt;" in hit.snippet


@pytest.mark.parametrize(
    "q",
    [
        '"; DROP TABLE posts; --',
        'NEAR(a b) OR * "unbalanced',
        "title:secret AND -x ^y",
        "'&|!:*()",
        "a" * 200,
        "ünïcödé 中文 ☕",
    ],
)
def test_hostile_queries_are_answered_not_crashed(app, make_user, make_thread, q):
    make_thread(make_user("writer"), title="Plain", body="nothing here")
    client = app.test_client()
    for url in (f"/search?q={q}", f"/api/v1/search?q={q}"):
        response = client.get(url)
        assert response.status_code in (200, 422), (url, response.status_code)


def test_results_cover_every_type(app, make_user, make_thread, make_shop, make_product):
    member = make_user("writer")
    thread = make_thread(member, title="Thermos review", body="My thermos keeps tea hot")
    post = reply(app, member, thread, "A thermos of soup too")
    shop = make_shop("acme")
    product = make_product(shop, "Steel thermos", description="Keeps **coffee** hot")
    with app_context(app), app.test_request_context("/"):
        user = db.session.get(User, member.id)
        starts = now() + timedelta(days=3)
        event = events.create_event(
            user,
            title="Thermos swap meet",
            description="Bring your old flask",
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            location="Town hall",
        ).id
        admin = db.session.get(User, make_user("chatboss", role="admin").id)
        room = chat.create_public_room(admin, "kitchen", "Kitchen")
        message = chat.send_message(user, room, "anyone has a thermos to lend?").id
        db.session.commit()
    everything = found(app, "thermos")
    assert sorted(everything) == sorted(
        [
            ("thread", thread),
            ("post", post),
            ("product", product),
            ("event", event),
            ("message", message),
        ]
    )
    for kind, ident in everything:
        assert found(app, "thermos", type=kind) == [(kind, ident)]
    by_url = {h.type: h.url for h in hits(app, "thermos")}
    assert by_url["thread"] == f"/t/{thread}" and by_url["post"] == f"/p/{post}"
    assert by_url["message"].endswith(f"#m-{message}")
    assert found(app, "coffee") == [("product", product)]  # the description, rendered


def test_a_private_room_message_is_never_found(app, make_user):
    owner, friend = make_user("owner"), make_user("friend")
    with app_context(app), app.test_request_context("/"):
        room = chat.create_private_room(db.session.get(User, owner.id), "Secret", ["friend"])
        chat.send_message(db.session.get(User, owner.id), room, "the zeppelin plan")
        admin = db.session.get(User, make_user("chatboss", role="admin").id)
        public = chat.create_public_room(admin, "lobby", "Lobby")
        shown = chat.send_message(db.session.get(User, friend.id), public, "zeppelin rides").id
        db.session.commit()
        assert (
            db.session.scalar(select(SearchDocument.id).where(SearchDocument.body.contains("plan")))
            is None
        )  # never even stored
    for viewer in (None, owner, friend, make_user("mod", role="moderator")):
        assert found(app, "zeppelin", viewer=viewer) == [("message", shown)]


def test_a_deleted_message_leaves_the_index(app, make_user):
    author = make_user("talker")
    with app_context(app), app.test_request_context("/"):
        admin = db.session.get(User, make_user("chatboss", role="admin").id)
        room = chat.create_public_room(admin, "lobby", "Lobby")
        message = chat.send_message(db.session.get(User, author.id), room, "quokka selfie")
        db.session.commit()
        chat.delete_message(db.session.get(User, author.id), message)
        db.session.commit()
    assert found(app, "quokka") == []


def test_a_hidden_post_is_never_found_by_others(app, make_user, make_thread):
    author, mod, other = (
        make_user("author"),
        make_user("mod", role="moderator"),
        make_user("xavier"),
    )
    thread = make_thread(author, title="Cast iron", body="Season with flaxseed oil")
    hidden = reply(app, author, thread, "flaxseed is food too")
    with app_context(app), app.test_request_context("/"):
        board.set_hidden(
            db.session.get(User, mod.id), db.session.get(Post, hidden), True, reason="spam"
        )
        db.session.commit()
    for viewer in (None, other):
        assert found(app, "flaxseed", viewer=viewer) == [("thread", thread)]
    assert ("post", hidden) in found(app, "flaxseed", viewer=mod)
    with app_context(app), app.test_request_context("/"):
        board.set_hidden(db.session.get(User, mod.id), db.session.get(Post, hidden), False, "fine")
        db.session.commit()
    assert ("post", hidden) in found(app, "flaxseed", viewer=other)


def test_deleted_posts_and_threads_leave_the_index(app, make_user, make_thread):
    author = make_user("author")
    thread = make_thread(author, title="Wok care", body="Never soak a carbon wok")
    gone = reply(app, author, thread, "carbon steel rusts")
    with app_context(app), app.test_request_context("/"):
        board.delete_post(db.session.get(User, author.id), db.session.get(Post, gone))
        db.session.commit()
    assert found(app, "carbon") == [("thread", thread)]
    other = make_thread(author, title="Carbon filters", body="for the hood")
    with app_context(app), app.test_request_context("/"):
        board.delete_post(
            db.session.get(User, author.id), board.first_post(board.get_thread(thread))
        )
        db.session.commit()
    assert found(app, "carbon") == [("thread", other)]


def test_a_post_the_board_stops_showing_is_left_out_even_if_still_indexed(
    app, make_user, make_thread
):
    """The board's rule is asked again on every page, whatever the index says."""
    author = make_user("author")
    thread = make_thread(author, title="Tandoor", body="clay oven talk")
    with app_context(app):
        db.session.execute(text("UPDATE posts SET deleted_at = created_at"))  # behind search's back
        db.session.commit()
    assert found(app, "tandoor") == []
    assert thread


def test_edits_and_moves_reach_the_index(app, make_user, make_thread, make_category):
    author, mod = make_user("author"), make_user("mod", role="moderator")
    thread = make_thread(author, title="Bread", body="rye starter")
    elsewhere = make_category("baking", "Baking")
    with app_context(app), app.test_request_context("/"):
        post = board.first_post(board.get_thread(thread))
        board.edit_post(db.session.get(User, author.id), post, "spelt starter")
        board.move_thread(
            db.session.get(User, mod.id),
            board.get_thread(thread),
            board.get_category("baking"),
            "it is about baking",
        )
        db.session.commit()
    assert found(app, "rye") == []
    assert found(app, "spelt", category="baking") == [("thread", thread)]
    assert found(app, "spelt", category="general") == []
    assert elsewhere


def test_filters_author_dates_and_offers(app, make_user, make_thread):
    alice, bob = make_user("alice"), make_user("bob")
    plain = make_thread(alice, title="Gnocchi", body="potato gnocchi")
    offer = make_thread(bob, title="Gnocchi board", body="gnocchi board [[product:1]]")
    assert found(app, "gnocchi", author="alice") == [("thread", plain)]
    assert found(app, "gnocchi", author="BOB") == [("thread", offer)]
    assert found(app, "gnocchi", has_offer=True) == [("thread", offer)]
    today = now().date()
    assert len(found(app, "gnocchi", since=today, until=today)) == 2
    assert found(app, "gnocchi", since=today + timedelta(days=1)) == []
    assert found(app, "gnocchi", until=today - timedelta(days=1)) == []


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ("q=", "q"),
        ("q=x&category=nope", "category"),
        ("q=x&author=nobody", "author"),
        ("q=x&since=2026-13-01", "since"),
        ("q=x&since=2026-02-01&until=2026-01-01", "until"),
        ("q=x&type=user", "type"),
        ("q=x&cursor=!!!", "cursor"),
        ("q=x&cursor=WyJhIiwiYiJd", "cursor"),  # ["a","b"]
        ("q=x&limit=1000", "limit"),
        ("q=" + "a" * 201, "q"),
    ],
)
def test_bad_arguments_are_422_naming_the_field(app, make_user, make_thread, args, field):
    make_thread(make_user("writer"))
    response = app.test_client().get(f"/api/v1/search?{args}")
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    page = app.test_client().get(f"/search?{args}")
    assert page.status_code == 200  # the page shows the message beside the form


def test_keyset_pages_are_disjoint_complete_and_ranked(app, make_user, make_thread):
    author = make_user("writer")
    thread = make_thread(author, title="Pan", body="one")
    for n in range(1, 8):
        reply(app, author, thread, " ".join(["skillet"] * n + ["filler"] * (8 - n)))
    with app_context(app), app.test_request_context("/"):
        seen, cursor, ranks = [], None, []
        while True:
            page = service.search(SearchQuery(q="skillet"), cursor=cursor, limit=3)
            seen += [hit.id for hit in page.items]
            ranks += [hit.rank for hit in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break
    assert len(seen) == len(set(seen)) == 7
    assert ranks == sorted(ranks, reverse=True)


def test_the_api_answers_the_contract(app, make_user, make_thread):
    author = make_user("writer")
    thread = make_thread(author, title="Moka pot", body="**stovetop** coffee")
    body = app.test_client().get("/api/v1/search?q=stovetop&limit=5").get_json()
    (item,) = body["items"]
    assert item["type"] == "thread" and item["id"] == thread
    assert item["url"] == f"/t/{thread}"
    assert item["snippet"] == "<mark>stovetop</mark> coffee"
    assert item["author"]["username"] == "writer"
    assert body["next_cursor"] is None


def test_the_page_shows_typed_highlighted_results_and_filters(app, make_user, make_thread):
    make_thread(make_user("writer"), title="Cold brew", body="steep the grounds overnight")
    page = app.test_client().get("/search?q=overnight").get_data(as_text=True)
    assert "<mark>overnight</mark>" in page and "Cold brew" in page
    assert 'name="category"' in page and 'name="has_offer"' in page
    assert 'class="search-type search-type-thread"' in page


def test_rebuild_restores_the_same_documents(app, make_user, make_thread, runner):
    author = make_user("writer")
    thread = make_thread(author, title="Pickles", body="brine ratio")
    reply(app, author, thread, "dill and garlic brine")
    before = found(app, "brine")
    with app_context(app):
        db.session.execute(text("DELETE FROM search_documents"))
        db.session.commit()
    assert found(app, "brine") == []
    result = runner.invoke(args=["search", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "post: 2 documents" in result.output
    assert found(app, "brine") == before


def test_postgres_search_uses_the_gin_index(app, on_postgres):
    if not on_postgres:
        pytest.skip("PostgreSQL's plan")
    with app_context(app), app.test_request_context("/"):
        rows = [
            {
                "source": "post",
                "source_id": n,
                "kind": "post",
                "ref_id": n,
                "url": f"/p/{n}",
                "title": "",
                "body": f"filler text number {n} about kettles and pans"
                + (" werkzeug" if n % 500 == 0 else ""),
                "label": "",
                "created_at": now(),
            }
            for n in range(1, 5001)
        ]
        db.session.execute(SearchDocument.__table__.insert(), rows)
        db.session.execute(text("ANALYZE search_documents"))
        statement = service.ranked_statement(SearchQuery(q="werkzeug"))
        compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
        plan = "\n".join(row[0] for row in db.session.execute(text(f"EXPLAIN {compiled}")))
    assert "ix_search_documents_fts" in plan, plan
    assert "to_tsvector" not in plan, plan


def test_sqlite_search_uses_the_fts5_index(app, on_postgres):
    if on_postgres:
        pytest.skip("SQLite's plan")
    with app_context(app), app.test_request_context("/"):
        statement = service.ranked_statement(SearchQuery(q="werkzeug"))
        compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
        plan = " ".join(
            str(row[-1]) for row in db.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
        )
    assert "VIRTUAL TABLE INDEX" in plan and "search_fts" in plan, plan


def test_service_refuses_no_words(app):
    with app_context(app), app.test_request_context("/"), pytest.raises(ValidationFailed):
        service.search(SearchQuery(q="  !!! ... "))


@pytest.mark.parametrize(
    "config_overrides", [{"RATELIMIT_ENABLED": True, "SEARCH_LIMIT": "3/minute"}]
)
def test_search_pages_are_limited_per_client_address(app, config_overrides):
    """Each new query is rendered (and kept for visitors): a script cycling queries is
    told to slow down before it can fill the page cache."""
    visitor = app.test_client()
    for n in range(3):
        assert visitor.get(f"/search?q=word{n}").status_code == 200
    assert visitor.get("/search?q=word9").status_code == 429
    # A query already kept is answered from the cache before any view: it adds nothing.
    assert visitor.get("/search?q=word0").status_code == 200
