"""Whole pages kept for anonymous visitors: served before any view runs, the same for every
visitor (no session, no token, no member, no widget), and fresh after every change."""

import re

import pytest

from forum.accounts.models import User
from forum.board import service as board
from forum.board.models import Post, Thread
from forum.extensions import db
from tests.conftest import app_context, login

PAGES = ("/", "/c/general", "/u/writer")


def _thread_pages(thread_id: int) -> tuple[str, ...]:
    return (*PAGES, f"/t/{thread_id}")


@pytest.fixture
def count_views(app):
    """GET ``path``: (whether a template was rendered, the response); a kept page answers
    before any view or template."""

    def rendered(path: str, client) -> tuple[bool, object]:
        from flask import template_rendered

        seen: list[str] = []

        def record(_app, template, context):
            seen.append(template.name)

        template_rendered.connect(record, app)
        try:
            response = client.get(path)
        finally:
            template_rendered.disconnect(record, app)
        return bool(seen), response

    return rendered


def _first_post(app, thread_id: int) -> int:
    with app_context(app):
        return db.session.query(Post.id).filter_by(thread_id=thread_id, position=1).scalar()


def test_a_visitors_second_get_is_the_kept_page_without_a_session(
    app, make_user, make_thread, count_views
):
    author = make_user("writer")
    thread_id = make_thread(author, title="Kept thread")
    for path in _thread_pages(thread_id):
        visitor = app.test_client()
        rendered, first = count_views(path, visitor)
        assert rendered and first.status_code == 200, path
        assert "Set-Cookie" not in first.headers, path
        html = first.get_data(as_text=True)
        assert 'name="csrf-token"' not in html and 'name="csrf_token"' not in html, path
        assert first.headers["Cache-Control"] == "public, no-cache"
        assert "Cookie" in first.headers["Vary"] and first.headers["ETag"].startswith('W/"')
        # Another visitor: the same bytes, no template rendered, still no cookie.
        rendered, again = count_views(path, app.test_client())
        assert not rendered and again.status_code == 200, path
        assert again.get_data() == first.get_data() and "Set-Cookie" not in again.headers
        assert again.headers["ETag"] == first.headers["ETag"]
        assert again.headers["Content-Security-Policy"]  # the site's headers on a kept page too
        unchanged = visitor.get(path, headers={"If-None-Match": first.headers["ETag"]})
        assert unchanged.status_code == 304 and unchanged.get_data() == b""
        dated = visitor.get(path, headers={"If-Modified-Since": first.headers["Last-Modified"]})
        assert dated.status_code == 304


def test_a_kept_page_is_answered_before_flask_with_the_headers_it_was_sent_with(
    app, make_user, make_thread
):
    """SharedPages answers in front of the app: no before_request hook runs for a kept
    copy, and it carries every header the rendered page had (security headers included)."""
    thread_id = make_thread(make_user("writer"), title="Answered early")
    hooks_run: list[str] = []
    app.before_request_funcs.setdefault(None, []).insert(0, lambda: hooks_run.append("hook"))
    first = app.test_client().get(f"/t/{thread_id}")
    assert first.status_code == 200 and hooks_run == ["hook"]
    again = app.test_client().get(f"/t/{thread_id}")
    assert hooks_run == ["hook"], "a kept page must not enter Flask"
    assert again.get_data() == first.get_data()
    assert sorted(again.headers.items()) == sorted(first.headers.items())


def test_a_cookie_set_after_the_keeper_ran_stops_the_page_from_being_kept(
    app, make_user, make_thread, count_views
):
    """after_request hooks registered before the page cache's run after it: one of them
    setting a cookie (as Flask-Login's remember cookie would) must not be kept for all."""
    thread_id = make_thread(make_user("writer"), title="Late cookie")

    def late_cookie(response):
        response.set_cookie("late", "mine")
        return response

    app.after_request_funcs.setdefault(None, []).insert(0, late_cookie)  # runs last
    for _ in range(2):
        rendered, response = count_views(f"/t/{thread_id}", app.test_client())
        assert rendered and "late=mine" in response.headers["Set-Cookie"]


def test_members_neither_get_nor_fill_the_kept_pages(app, make_user, make_thread, count_views):
    author = make_user("writer")
    moderator = make_user("mod", role="moderator")
    thread_id = make_thread(author, title="Shared thread")
    mod_client = app.test_client()
    login(mod_client, moderator)
    for path in _thread_pages(thread_id):
        rendered, mine = count_views(path, mod_client)
        assert rendered and mine.headers.get("Cache-Control") != "public, no-cache"
        assert 'name="csrf-token"' in mine.get_data(as_text=True)
        # The moderator's page was not kept: the first visitor renders their own.
        visitor = app.test_client()
        rendered, page = count_views(path, visitor)
        assert rendered, path
        html = page.get_data(as_text=True)
        assert "Review queue" not in html and "mod" not in html.split("<main")[0]
        # Now kept for visitors; the member still gets a page of their own.
        assert not count_views(path, app.test_client())[0]
        rendered, mine = count_views(path, mod_client)
        assert rendered and "Review queue" in mine.get_data(as_text=True), path


def test_a_cookie_or_a_token_or_an_unknown_argument_is_rendered_not_kept(
    app, make_user, make_thread, count_views
):
    make_thread(make_user("writer"), title="A thread")
    assert count_views("/", app.test_client())[0]  # kept now
    with_cookie = app.test_client()
    with_cookie.set_cookie("session", "anything")
    assert count_views("/", with_cookie)[0]
    remembered = app.test_client()
    remembered.set_cookie("remember_token", "anything")
    assert count_views("/", remembered)[0]
    rendered, response = count_views("/", app.test_client())
    assert not rendered
    tokened = app.test_client()
    tokened.environ_base["HTTP_AUTHORIZATION"] = "Bearer nonsense"
    assert count_views("/", tokened)[0]
    for _ in range(2):
        assert count_views("/?utm_source=mail", app.test_client())[0]


def test_each_change_on_the_board_is_seen_at_once(app, make_user, make_thread):
    author = make_user("writer")
    moderator = make_user("mod", role="moderator")
    thread_id = make_thread(author, title="Changing thread", body="The original body")
    post_id = _first_post(app, thread_id)
    visitor = app.test_client()
    thread_page = f"/t/{thread_id}"

    def page(path: str = thread_page) -> str:
        return app.test_client().get(path).get_data(as_text=True)

    for path in _thread_pages(thread_id):
        visitor.get(path)  # every page kept
    with app_context(app), app.test_request_context("/"):
        board.reply(
            db.session.get(User, author.id), db.session.get(Thread, thread_id), "A brand new reply"
        )
        db.session.commit()
    assert "A brand new reply" in page() and "A brand new reply" in page("/u/writer")
    author_client = app.test_client()
    login(author_client, author)
    assert author_client.post(
        f"/p/{post_id}/edit", data={"body": "An edited body"}
    ).status_code in (
        302,
        303,
    )
    assert "An edited body" in page() and "The original body" not in page()
    mod_client = app.test_client()
    login(mod_client, moderator)
    with app_context(app):
        reply_id = db.session.query(Post.id).filter_by(thread_id=thread_id, position=2).scalar()
    assert mod_client.post(f"/mod/p/{reply_id}/hide", data={"reason": "spam"}).status_code == 302
    assert "A brand new reply" not in page()
    assert author_client.post(f"/p/{post_id}/delete").status_code in (302, 303)
    assert app.test_client().get(thread_page).status_code == 404
    assert "Changing thread" not in page("/") and "Changing thread" not in page("/c/general")


def test_a_waiting_flash_message_is_shown_and_not_kept(app, make_user, make_thread):
    author = make_user("writer")
    make_thread(author)
    app.test_client().get("/")  # the front page is kept
    client = app.test_client()
    login(client, author)
    logged_out = client.post("/logout", follow_redirects=True)
    assert "You are logged out." in logged_out.get_data(as_text=True)
    assert logged_out.headers.get("Cache-Control") != "public, no-cache"
    # Nobody else is shown that message.
    for _ in range(2):
        assert "You are logged out." not in app.test_client().get("/").get_data(as_text=True)


def test_a_page_showing_a_widget_is_never_kept(
    app, make_user, make_thread, make_shop, make_product
):
    shop = make_shop("acme")
    product = make_product(shop, "Lamp", stock=5)
    author = make_user("writer")
    thread_id = make_thread(author, title="Look at this", body=f"Here it is [[product:{product}]]")
    path = f"/t/{thread_id}"
    first = app.test_client().get(path)
    assert first.status_code == 200 and "Lamp" in first.get_data(as_text=True)
    assert first.headers.get("Cache-Control") != "public, no-cache"
    with app_context(app):
        from forum.shop_embed.models import Product

        db.session.get(Product, product).name = "Brass lamp"
        db.session.commit()
    # Live widget state (stock, price, name) and impressions: rendered for each visitor.
    assert "Brass lamp" in app.test_client().get(path).get_data(as_text=True)


def test_a_kept_page_lasts_page_cache_seconds_at_most(
    app, make_user, make_thread, count_views, monkeypatch
):
    """What only time or a profile edit changes ("3m ago", a bio) is at most that old."""
    import time

    import cachelib.simple

    make_thread(make_user("writer"), title="A thread")
    assert count_views("/u/writer", app.test_client())[0]
    assert not count_views("/u/writer", app.test_client())[0]
    later = time.time() + app.config.get("PAGE_CACHE_SECONDS", 60) + 1
    monkeypatch.setattr(cachelib.simple, "time", lambda: later)
    assert count_views("/u/writer", app.test_client())[0]


@pytest.mark.parametrize(
    "config_overrides",
    [{"PAGE_CACHE_TYPE": "RedisCache", "PAGE_CACHE_REDIS_URL": "redis://127.0.0.1:1/0"}],
)
def test_pages_render_while_the_cache_is_down(app, make_user, make_thread):
    author = make_user("writer")
    thread_id = make_thread(author, title="Still readable")
    for path in _thread_pages(thread_id):
        for _ in range(2):
            response = app.test_client().get(path)
            assert response.status_code == 200, path
            # Still a page without a session: nothing personal, nothing kept.
            assert "Set-Cookie" not in response.headers, path
            assert 'name="csrf-token"' not in response.get_data(as_text=True)
    # Writing goes on too: the version bump fails quietly.
    client = app.test_client()
    login(client, author)
    reply = client.post(f"/t/{thread_id}/reply", data={"body": "Still writing"})
    assert reply.status_code in (302, 303)
    assert "Still writing" in app.test_client().get(f"/t/{thread_id}").get_data(as_text=True)


def test_the_clock_in_a_kept_page_is_the_same_for_everyone(app, make_user, make_thread):
    """No countdown or server time outside widgets: two visitors get the same bytes."""
    make_thread(make_user("writer"), title="A thread")
    first = app.test_client().get("/c/general").get_data(as_text=True)
    second = app.test_client().get("/c/general").get_data(as_text=True)
    assert first == second and not re.search(r"data-server-time|data-now=", first)


def test_pages_are_kept_per_locale_not_per_accept_language_header(
    app, make_user, make_thread, count_views
):
    """Headers that pick the same locale share one kept page, so a visitor cycling through
    Accept-Language variants cannot fill the cache with copies; another locale is its own."""
    make_thread(make_user("writer"), title="Kept per locale")

    def get(language: str):
        client = app.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
        return count_views("/", client)

    rendered, first = get("de-DE,de;q=0.9")
    assert rendered and first.status_code == 200
    for variant in ("de-DE", "de-DE,de;q=0.8,en;q=0.1", "de-DE;q=1.0, fr;q=0.5"):
        rendered, again = get(variant)
        assert not rendered, variant
        assert again.get_data() == first.get_data()
    rendered, french = get("fr-FR")
    assert rendered and french.status_code == 200


def test_a_visitors_search_is_kept_and_moves_with_the_index(
    app, make_user, make_thread, make_shop, make_product, count_views
):
    author = make_user("writer")
    moderator = make_user("mod", role="moderator")
    thread_id = make_thread(author, title="Percolator talk", body="My percolator gurgles.")
    path = "/search?q=percolator"
    rendered, first = count_views(path, app.test_client())
    assert rendered and first.status_code == 200 and "Set-Cookie" not in first.headers
    assert f'href="/t/{thread_id}"' in first.get_data(as_text=True)
    rendered, again = count_views(path, app.test_client())
    assert not rendered and again.get_data() == first.get_data()
    # Another query, or an argument the page does not know, is not that page.
    assert count_views("/search?q=gurgles", app.test_client())[0]
    assert count_views(path + "&utm=x", app.test_client())[0]
    assert count_views(path + "&utm=x", app.test_client())[0]  # never kept

    def results() -> str:
        return app.test_client().get(path).get_data(as_text=True)

    with app_context(app), app.test_request_context("/"):
        board.reply(
            db.session.get(User, author.id),
            db.session.get(Thread, thread_id),
            "A second percolator owner chimes in",
        )
        db.session.commit()
    with app_context(app):
        reply_id = db.session.query(Post.id).filter_by(thread_id=thread_id, position=2).scalar()
    assert f'href="/p/{reply_id}"' in results()  # a new post: a new version
    mod_client = app.test_client()
    login(mod_client, moderator)
    assert mod_client.post(f"/mod/p/{reply_id}/hide", data={"reason": "spam"}).status_code == 302
    assert f'href="/p/{reply_id}"' not in results()  # search_stale: a new version too
    # A merchant renaming a product moves the index (search_stale), not the board.
    make_product(shop := make_shop("acme"), name="Brass percolator", description="Stovetop.")
    assert "Brass" in results()
    with app_context(app), app.test_request_context("/"):
        from forum.shop_embed import service as shop_service
        from forum.shop_embed.models import Product

        product = db.session.scalars(db.select(Product)).one()
        shop_service.update_product(db.session.get(User, shop.user.id), product, name="Copper pot")
        db.session.commit()
    assert "Brass" not in results()
    # A member's search is theirs: never served from, nor kept in, the visitors' cache.
    login(member := app.test_client(), author)
    rendered, mine = count_views(path, member)
    assert rendered and mine.status_code == 200


def test_two_workers_share_kept_pages_and_the_version_through_redis(
    app, database_uri, tmp_path, redis_url, make_user, make_thread
):
    """As two server processes in production: one Redis holds the kept pages and the
    board version (one MGET per visitor request), so a post made through either worker
    is seen at once through the other."""
    import uuid

    from flask import template_rendered

    from forum import create_app
    from tests.conftest import base_config

    author = make_user("writer")
    thread_id = make_thread(author, title="Shared through Redis")
    prefix = f"plaza-test-{uuid.uuid4().hex}:"
    workers = [
        create_app(
            base_config(database_uri)
            | {
                "UPLOAD_FOLDER": str(tmp_path / "uploads"),
                "PAGE_CACHE_TYPE": "RedisCache",
                "PAGE_CACHE_REDIS_URL": redis_url,
                "PAGE_CACHE_PREFIX": prefix,
            }
        )
        for _ in range(2)
    ]

    def visit(worker) -> tuple[bool, str]:
        seen: list[str] = []

        def record(_app, template, context):
            seen.append(template.name)

        template_rendered.connect(record, worker)
        try:
            response = worker.test_client().get("/")
        finally:
            template_rendered.disconnect(record, worker)
        assert response.status_code == 200
        return bool(seen), response.get_data(as_text=True)

    first, second = workers
    assert visit(first)[0]  # rendered and kept in Redis
    rendered, html = visit(second)
    assert not rendered and "Shared through Redis" in html  # the other worker's copy
    with second.app_context(), second.test_request_context("/"):
        board.reply(
            db.session.get(User, author.id), db.session.get(Thread, thread_id), "Fresh via two"
        )
        db.session.commit()  # INCR of the shared version, after the commit
    rendered, html = visit(first)
    assert rendered  # the version moved in Redis: the kept page is from before it
    assert not visit(second)[0]  # and the new page is kept for both again
    for worker in workers:
        with worker.app_context():
            db.engine.dispose()
