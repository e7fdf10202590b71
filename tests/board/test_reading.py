"""Unread and new: read marks, the Latest / New / Unread / Top lists (HTML and API),
the jump to the first unread post, and marks under concurrency."""

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from forum.accounts.models import User
from forum.board import service
from forum.board.models import Post, Thread, ThreadRead
from forum.clock import now
from forum.extensions import db
from tests.conftest import app_context, login

pytestmark = pytest.mark.xdist_group("board-reading")


@pytest.fixture
def config_overrides():
    # Three posts a page so "the first unread post" can sit on a later page; a small pool
    # for the concurrency test.
    return {
        "POSTS_PER_PAGE": 3,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 5, "max_overflow": 0, "pool_timeout": 120},
    }


def add_replies(app, thread_id, author, count):
    with app_context(app), app.test_request_context("/"):
        thread = db.session.get(Thread, thread_id)
        user = db.session.get(User, author.id)
        for n in range(count):
            service.reply(user, thread, f"reply {n}")
        db.session.commit()


def post_id_at(app, thread_id, position):
    with app_context(app):
        return db.session.scalar(
            select(Post.id).where(Post.thread_id == thread_id, Post.position == position)
        )


def mark_of(app, user, thread_id):
    with app_context(app):
        mark = db.session.get(ThreadRead, (user.id, thread_id))
        return None if mark is None else mark.last_read_position


def client_for(app, user):
    client = app.test_client()
    login(client, user)
    return client


def row_of(page_html, thread_id):
    """The thread-list row linking to ``thread_id`` (its HTML), or None."""
    for row in re.findall(r'<li class="thread-row.*?</li>', page_html, re.S):
        if f"/t/{thread_id}" in row:
            return row
    return None


@pytest.fixture
def alice_bob(make_user):
    return make_user("alice"), make_user("bob")


def test_a_thread_is_new_until_opened_then_counts_replies_after_the_last_read(
    app, alice_bob, make_thread
):
    alice, bob = alice_bob
    thread_id = make_thread(alice, title="Sourdough starters")
    as_bob = client_for(app, bob)
    row = row_of(as_bob.get("/").get_data(as_text=True), thread_id)
    assert row and "data-new" in row and "data-unread" not in row
    # Its author never sees their own thread as new.
    as_alice = client_for(app, alice)
    assert "data-new" not in row_of(as_alice.get("/").get_data(as_text=True), thread_id)

    response = as_bob.post(f"/t/{thread_id}/read", data={"position": "1"})
    assert response.status_code == 200
    assert response.get_json() == {
        "thread_id": thread_id,
        "last_read_position": 1,
        "unread_count": 0,
    }
    row = row_of(as_bob.get("/").get_data(as_text=True), thread_id)
    assert "data-new" not in row and "data-unread" not in row

    add_replies(app, thread_id, alice, 4)  # positions 2-5
    row = row_of(as_bob.get("/").get_data(as_text=True), thread_id)
    assert re.search(r"data-unread[^>]*>4</a>", row)
    assert f"/t/{thread_id}/unread" in row
    # Alice wrote them: she has read her own thread to its end.
    assert mark_of(app, alice, thread_id) == 5
    assert "data-unread" not in row_of(as_alice.get("/").get_data(as_text=True), thread_id)


def test_opening_jumps_to_the_first_unread_post_on_its_page(app, alice_bob, make_thread):
    alice, bob = alice_bob
    thread_id = make_thread(alice)
    add_replies(app, thread_id, alice, 6)  # 7 posts, 3 a page
    as_bob = client_for(app, bob)
    # Never opened: the first post.
    jump = as_bob.get(f"/t/{thread_id}/unread")
    assert jump.status_code == 302
    assert jump.headers["Location"].endswith(
        f"/t/{thread_id}?page=1#post-{post_id_at(app, thread_id, 1)}"
    )
    assert as_bob.post(f"/t/{thread_id}/read", data={"position": "4"}).status_code == 200
    jump = as_bob.get(f"/t/{thread_id}/unread")
    assert jump.headers["Location"].endswith(
        f"/t/{thread_id}?page=2#post-{post_id_at(app, thread_id, 5)}"
    )
    landed = as_bob.get(jump.headers["Location"]).get_data(as_text=True)
    assert f'id="post-{post_id_at(app, thread_id, 5)}"' in landed
    # Caught up: the last post.
    as_bob.post(f"/t/{thread_id}/read", data={"position": "7"})
    assert (
        as_bob.get(f"/t/{thread_id}/unread")
        .headers["Location"]
        .endswith(f"page=3#post-{post_id_at(app, thread_id, 7)}")
    )


def test_the_jump_skips_a_deleted_post_and_a_visitor_lands_on_the_first(
    app, alice_bob, make_thread
):
    alice, bob = alice_bob
    thread_id = make_thread(alice)
    add_replies(app, thread_id, alice, 3)
    as_bob = client_for(app, bob)
    as_bob.post(f"/t/{thread_id}/read", data={"position": "2"})
    with app_context(app):
        db.session.execute(
            update(Post).where(Post.id == post_id_at(app, thread_id, 3)).values(deleted_at=now())
        )
        db.session.commit()
    assert (
        as_bob.get(f"/t/{thread_id}/unread")
        .headers["Location"]
        .endswith(f"#post-{post_id_at(app, thread_id, 4)}")
    )
    visitor = app.test_client().get(f"/t/{thread_id}/unread")
    assert visitor.headers["Location"].endswith(f"#post-{post_id_at(app, thread_id, 1)}")


def test_a_mark_never_moves_back_and_bad_positions_change_nothing(app, alice_bob, make_thread):
    alice, bob = alice_bob
    thread_id = make_thread(alice)
    add_replies(app, thread_id, alice, 3)
    as_bob = client_for(app, bob)
    assert as_bob.post(f"/t/{thread_id}/read", data={"position": "3"}).status_code == 200
    stale = as_bob.post(f"/t/{thread_id}/read", data={"position": "1"})
    assert stale.status_code == 200 and stale.get_json()["last_read_position"] == 3
    for bad in ("0", "5", "-1", "99999999999999999999", "abc", "", "²", "3.5"):
        response = as_bob.post(f"/t/{thread_id}/read", data={"position": bad})
        assert response.status_code == 422, bad
        assert response.get_json()["error"]["fields"]["position"]
    assert mark_of(app, bob, thread_id) == 3
    # Visitors cannot mark; a deleted thread is not found.
    assert app.test_client().post(f"/t/{thread_id}/read", data={"position": "1"}).status_code in (
        302,
        401,
    )
    with app_context(app):
        db.session.execute(update(Thread).where(Thread.id == thread_id).values(deleted_at=now()))
        db.session.commit()
    assert as_bob.post(f"/t/{thread_id}/read", data={"position": "4"}).status_code == 404
    assert as_bob.get(f"/t/{thread_id}/unread").status_code == 404
    assert mark_of(app, bob, thread_id) == 3


def test_new_and_unread_lists_per_member(app, alice_bob, make_thread):
    alice, bob = alice_bob
    fresh = make_thread(alice, title="Fresh thread")
    old = make_thread(alice, title="Old thread")
    opened = make_thread(alice, title="Opened thread")
    caught_up = make_thread(alice, title="Caught up thread")
    mine = make_thread(bob, title="Bob's own thread")
    with app_context(app):
        db.session.execute(
            update(Thread).where(Thread.id == old).values(created_at=now() - timedelta(days=30))
        )
        db.session.commit()
    as_bob = client_for(app, bob)
    for thread_id in (opened, caught_up):
        as_bob.post(f"/t/{thread_id}/read", data={"position": "1"})
    add_replies(app, opened, alice, 2)

    new_page = as_bob.get("/?view=new").get_data(as_text=True)
    assert row_of(new_page, fresh) and not row_of(new_page, old)
    assert not any(row_of(new_page, t) for t in (opened, caught_up, mine))
    unread_page = as_bob.get("/?view=unread").get_data(as_text=True)
    assert row_of(unread_page, opened)
    assert not any(row_of(unread_page, t) for t in (fresh, old, caught_up, mine))
    # The same lists through the API, with the counts.
    api = as_bob.get("/api/v1/threads?view=unread").get_json()
    assert [(t["id"], t["unread_count"], t["is_new"]) for t in api["items"]] == [(opened, 2, False)]
    api = as_bob.get("/api/v1/threads?view=new&category=general").get_json()
    assert [(t["id"], t["is_new"]) for t in api["items"]] == [(fresh, True)]
    # A visitor has no new or unread threads and sees no such tabs.
    visitor = app.test_client()
    assert visitor.get("/api/v1/threads?view=unread").get_json()["items"] == []
    home = visitor.get("/").get_data(as_text=True)
    assert "view=unread" not in home and "view=top" in home


def test_latest_pages_past_thirty_with_more(app, make_user, make_thread):
    alice = make_user("alice")
    ids = [make_thread(alice, title=f"Thread number {n}") for n in range(33)]
    home = app.test_client().get("/").get_data(as_text=True)
    shown = [int(t) for t in re.findall(r'class="thread-title" href="/t/(\d+)"', home)]
    assert shown == ids[::-1][:30]
    more = re.search(r'rel="next" href="([^"]+)"', home).group(1).replace("&amp;", "&")
    second = app.test_client().get(more).get_data(as_text=True)
    rest = [int(t) for t in re.findall(r'class="thread-title" href="/t/(\d+)"', second)]
    assert rest == ids[::-1][30:] and 'rel="next"' not in second


def test_top_ranks_by_replies_within_the_period_and_pages(app, alice_bob, make_thread):
    alice, bob = alice_bob
    quiet = make_thread(alice, title="Quiet one")
    busy = make_thread(alice, title="Busy one")
    busier = make_thread(alice, title="Busier one")
    ancient = make_thread(alice, title="Ancient one")
    add_replies(app, busy, bob, 2)
    add_replies(app, busier, bob, 3)
    add_replies(app, ancient, bob, 5)
    with app_context(app):
        db.session.execute(
            update(Thread).where(Thread.id == ancient).values(created_at=now() - timedelta(days=40))
        )
        db.session.commit()
    client = app.test_client()
    week = client.get("/api/v1/threads?view=top&period=week&limit=2").get_json()
    assert [t["id"] for t in week["items"]] == [busier, busy]
    rest = client.get(f"/api/v1/threads?view=top&period=week&limit=2&cursor={week['next_cursor']}")
    assert [t["id"] for t in rest.get_json()["items"]] == [quiet]
    year = client.get("/api/v1/threads?view=top&period=year").get_json()
    assert [t["id"] for t in year["items"]] == [ancient, busier, busy, quiet]
    page = client.get("/c/general?view=top&period=month").get_data(as_text=True)
    assert row_of(page, ancient) is None and row_of(page, busier)


@pytest.mark.parametrize(
    "query, status",
    [
        ("view=hot", 404),
        ("view=top&period=decade", 422),
        ("view=top&cursor=not-a-cursor", 422),
        ("view=unread&cursor=WyJ4IiwxXQ", 422),  # ["x", 1]
        ("view=top&cursor=WyJ4IiwxXQ", 422),
        ("category=nope", 404),
        ("limit=1000", 422),
    ],
)
def test_bad_list_queries_are_4xx(app, member_client, make_thread, member, query, status):
    make_thread(member)
    response = member_client.get(f"/api/v1/threads?{query}")
    assert response.status_code == status
    assert "error" in response.get_json()
    html_status = member_client.get(f"/?{query}").status_code
    assert html_status in (404, 422) or query.startswith("category")


def test_api_marks_read_with_a_token(app, alice_bob, make_thread, token_for):
    alice, bob = alice_bob
    thread_id = make_thread(alice)
    add_replies(app, thread_id, alice, 2)
    headers = token_for(bob)
    client = app.test_client()
    response = client.post(
        f"/api/v1/threads/{thread_id}/read", json={"position": 2}, headers=headers
    )
    assert response.status_code == 200
    assert response.get_json() == {
        "thread_id": thread_id,
        "last_read_position": 2,
        "unread_count": 1,
    }
    for bad in ({"position": 4}, {"position": 0}, {"position": "2"}, {"position": True}, {}):
        response = client.post(f"/api/v1/threads/{thread_id}/read", json=bad, headers=headers)
        assert response.status_code == 422, bad
    assert client.post(f"/api/v1/threads/{thread_id}/read", json={"position": 1}).status_code == 401
    assert (
        client.post(
            "/api/v1/threads/999999/read", json={"position": 1}, headers=headers
        ).status_code
        == 404
    )
    assert mark_of(app, bob, thread_id) == 2


def test_concurrent_marks_keep_the_highest_position(app, alice_bob, make_thread):
    alice, bob = alice_bob
    thread_id = make_thread(alice)
    add_replies(app, thread_id, alice, 19)  # 20 posts
    count = 20
    barrier = threading.Barrier(count)
    errors: list = []

    def target(position):
        try:
            with app.app_context(), app.test_request_context("/"):
                barrier.wait(timeout=60)
                try:
                    service.mark_read(
                        db.session.get(User, bob.id), db.session.get(Thread, thread_id), position
                    )
                    db.session.commit()
                finally:
                    db.session.remove()
        except Exception as exc:
            errors.append(repr(exc))

    workers = [threading.Thread(target=target, args=(p,)) for p in range(1, count + 1)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert not errors and not any(w.is_alive() for w in workers)
    with app_context(app):
        marks = db.session.scalars(
            select(ThreadRead).where(ThreadRead.thread_id == thread_id)
        ).all()
        assert [(m.user_id, m.last_read_position) for m in marks if m.user_id == bob.id] == [
            (bob.id, 20)
        ]
