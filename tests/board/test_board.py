from sqlalchemy import func, select

from forum.accounts.models import User
from forum.board import service
from forum.board.models import Post, PostLike, PostRevision, Thread
from forum.extensions import db
from forum.moderation.models import AuditEntry
from forum.notifications.models import Notification
from tests.conftest import login


def post_ids(app, thread_id):
    with app.app_context():
        return list(
            db.session.scalars(
                select(Post.id).where(Post.thread_id == thread_id).order_by(Post.position)
            )
        )


def test_thread_with_markdown_and_reply_renders(app, member, member_client, make_category):
    make_category("general")
    created = member_client.post(
        "/c/general/new", data={"title": "Sourdough", "body": "# Starter\n\n*tangy*"}
    )
    thread_url = created.headers["Location"]
    reply = member_client.post(thread_url + "/reply", data={"body": "Feed it **twice** a day"})
    assert reply.status_code == 302
    page = member_client.get(thread_url).get_data(as_text=True)
    assert (
        "<h1>Starter</h1>" in page and "<em>tangy</em>" in page and "<strong>twice</strong>" in page
    )
    with app.app_context():
        thread = db.session.scalar(select(Thread))
        assert (thread.post_count, thread.reply_count) == (2, 1)
        assert db.session.get(User, member.id).post_count == 2


def test_empty_title_or_body_shows_form_errors_and_writes_nothing(
    app, member_client, make_category
):
    make_category("general")
    response = member_client.post("/c/general/new", data={"title": "  ", "body": ""})
    assert response.status_code == 422
    assert "field-error" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Thread)) == 0


def test_only_author_or_moderator_may_edit_or_delete(app, make_user, make_thread):
    author, other, mod = make_user("author"), make_user("other"), make_user("mod", role="moderator")
    thread_id = make_thread(author)
    (post_id,) = post_ids(app, thread_id)
    stranger = app.test_client()
    login(stranger, other)
    assert stranger.post(f"/p/{post_id}/edit", data={"body": "vandalised"}).status_code == 403
    assert stranger.post(f"/p/{post_id}/delete").status_code == 403
    moderator = app.test_client()
    login(moderator, mod)
    assert moderator.post(f"/p/{post_id}/edit", data={"body": "fixed typo"}).status_code == 302
    with app.app_context():
        post = db.session.get(Post, post_id)
        assert post.body == "fixed typo" and post.deleted_at is None


def test_edit_keeps_revision_history(app, member, member_client, make_thread):
    thread_id = make_thread(member, body="version one")
    (post_id,) = post_ids(app, thread_id)
    member_client.post(f"/p/{post_id}/edit", data={"body": "version two"})
    member_client.post(f"/p/{post_id}/edit", data={"body": "version three"})
    with app.app_context():
        bodies = db.session.scalars(
            select(PostRevision.body)
            .where(PostRevision.post_id == post_id)
            .order_by(PostRevision.id)
        )
        assert list(bodies) == ["version one", "version two"]
        assert db.session.get(Post, post_id).edited_at is not None
    history = member_client.get(f"/p/{post_id}/revisions").get_data(as_text=True)
    assert "version one" in history and "version three" in history


def test_soft_delete_keeps_the_row_and_shows_a_placeholder(
    app, member, member_client, make_thread, make_user
):
    thread_id = make_thread(member)
    member_client.post(f"/t/{thread_id}/reply", data={"body": "regrettable words"})
    reply_id = post_ids(app, thread_id)[1]
    assert member_client.post(f"/p/{reply_id}/delete").status_code == 302
    with app.app_context():
        assert db.session.get(Post, reply_id).deleted_at is not None
    reader = app.test_client()
    page = reader.get(f"/t/{thread_id}").get_data(as_text=True)
    assert "regrettable words" not in page and "This post was deleted." in page


def test_deleting_the_first_post_deletes_the_thread(app, member, member_client, make_thread):
    thread_id = make_thread(member)
    (post_id,) = post_ids(app, thread_id)
    member_client.post(f"/p/{post_id}/delete")
    assert app.test_client().get(f"/t/{thread_id}").status_code == 404


def test_locked_thread_refuses_replies_except_from_moderators(app, make_user, make_thread):
    author, mod = make_user("author"), make_user("mod", role="moderator")
    thread_id = make_thread(author)
    moderator = app.test_client()
    login(moderator, mod)
    writer = app.test_client()
    login(writer, author)
    assert writer.post(f"/mod/t/{thread_id}/lock").status_code == 403  # not a moderator
    # Every moderator action needs a reason: without one nothing changes.
    assert moderator.post(f"/mod/t/{thread_id}/lock", data={"reason": " "}).status_code == 422
    assert writer.post(f"/t/{thread_id}/reply", data={"body": "still open"}).status_code == 302
    assert moderator.post(f"/mod/t/{thread_id}/lock", data={"reason": "heated"}).status_code == 302
    refused = writer.post(f"/t/{thread_id}/reply", data={"body": "let me in"})
    assert refused.status_code == 422 and "locked" in refused.get_data(as_text=True)
    assert moderator.post(f"/t/{thread_id}/reply", data={"body": "closing note"}).status_code == 302
    assert len(post_ids(app, thread_id)) == 3
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry)).all()
        assert [(e.action, e.reason, e.subject_id) for e in entries] == [
            ("thread.lock", "heated", author.id)
        ]


def test_hidden_posts_are_invisible_to_others_but_not_to_author_and_moderators(
    app, make_user, make_thread
):
    author, mod, reader_user = (
        make_user("author"),
        make_user("mod", role="moderator"),
        make_user("reader"),
    )
    thread_id = make_thread(author)
    author_client = app.test_client()
    login(author_client, author)
    author_client.post(f"/t/{thread_id}/reply", data={"body": "secret spam link"})
    reply_id = post_ids(app, thread_id)[1]
    moderator = app.test_client()
    login(moderator, mod)
    assert moderator.post(f"/mod/p/{reply_id}/hide", data={"reason": "spam"}).status_code == 302
    reader = app.test_client()
    login(reader, reader_user)
    assert "secret spam link" not in reader.get(f"/t/{thread_id}").get_data(as_text=True)
    assert "secret spam link" not in app.test_client().get(f"/t/{thread_id}").get_data(as_text=True)
    assert reader.get(f"/p/{reply_id}").status_code == 404
    assert "secret spam link" in author_client.get(f"/t/{thread_id}").get_data(as_text=True)
    assert "secret spam link" in moderator.get(f"/t/{thread_id}").get_data(as_text=True)
    moderator.post(f"/mod/p/{reply_id}/restore", data={"reason": "mistake"})
    assert "secret spam link" in reader.get(f"/t/{thread_id}").get_data(as_text=True)
    with app.app_context():
        assert list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id))) == [
            "post.hide",
            "post.restore",
        ]


def test_moderators_pin_and_move_threads(app, make_user, make_thread, make_category):
    author, mod = make_user("author"), make_user("mod", role="moderator")
    first = make_thread(author, title="Older thread")
    pinned = make_thread(author, title="Rules thread")
    make_thread(author, title="Newest thread")
    make_category("elsewhere")
    moderator = app.test_client()
    login(moderator, mod)
    moderator.post(f"/mod/t/{pinned}/pin", data={"reason": "house rules"})
    listing = app.test_client().get("/c/general").get_data(as_text=True)
    assert (
        listing.index("Rules thread")
        < listing.index("Newest thread")
        < listing.index("Older thread")
    )
    assert moderator.post(f"/mod/t/{first}/move", data={"category": "elsewhere"}).status_code == 422
    assert "Older thread" in app.test_client().get("/c/general").get_data(as_text=True)
    moved = moderator.post(
        f"/mod/t/{first}/move", data={"category": "elsewhere", "reason": "topic"}
    )
    assert moved.status_code == 302
    assert "Older thread" in app.test_client().get("/c/elsewhere").get_data(as_text=True)
    member = app.test_client()
    login(member, author)
    assert member.post(f"/mod/t/{first}/move", data={"category": "general"}).status_code == 403
    assert member.post(f"/mod/t/{first}/pin").status_code == 403


def test_likes_are_once_per_user_and_counted_in_sql(app, make_user, make_thread):
    author, fan = make_user("author"), make_user("fan")
    thread_id = make_thread(author)
    (post_id,) = post_ids(app, thread_id)
    client = app.test_client()
    login(client, fan)
    liked = client.post(f"/p/{post_id}/like", headers={"Accept": "application/json"}).get_json()
    assert liked == {"liked": True, "like_count": 1}
    with app.app_context(), app.test_request_context("/"):
        post = db.session.get(Post, post_id)
        user = db.session.get(User, fan.id)
        try:
            service.like(user, post)
            raise AssertionError("a second like must be refused")
        except service.Conflict as err:
            assert err.code == "already_liked"
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(PostLike)) == 1
    unliked = client.post(f"/p/{post_id}/like", headers={"Accept": "application/json"}).get_json()
    assert unliked == {"liked": False, "like_count": 0}


def test_mentions_and_replies_notify_and_ring_the_bell(app, make_user, make_thread):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    thread_id = make_thread(alice, title="Knives")
    bob_client = app.test_client()
    login(bob_client, bob)
    bob_client.post(f"/t/{thread_id}/reply", data={"body": "Ask @carol, and @nobody_here"})
    with app.app_context():
        rows = db.session.execute(
            select(Notification.user_id, Notification.kind).order_by(Notification.id)
        ).all()
        assert sorted(rows) == sorted([(carol.id, "mention"), (alice.id, "reply")])
    carol_client = app.test_client()
    login(carol_client, carol)
    home = carol_client.get("/").get_data(as_text=True)
    assert "data-bell-count>1<" in home
    listing = carol_client.get("/notifications/", headers={"Accept": "application/json"}).get_json()
    assert listing["unread"] == 1 and "bob mentioned you" in listing["items"][0]["text"]
    # following it is a POST (a GET never writes): it is read, and leads to the post
    opened = carol_client.post(listing["items"][0]["url"])
    assert opened.status_code == 302
    assert f"/t/{thread_id}" in carol_client.get(opened.headers["Location"]).headers["Location"]
    assert "data-bell-count>0<" in carol_client.get("/").get_data(as_text=True)
    # Someone else's notification is not yours to open.
    assert bob_client.get(listing["items"][0]["url"]).status_code == 404


def test_deep_pages_are_position_ranges(app, make_user, make_thread):
    author = make_user("author")
    thread_id = make_thread(author, body="post number 1")
    with app.app_context(), app.test_request_context("/"):
        app.config["POSTS_PER_PAGE"] = 5
        thread, user = db.session.get(Thread, thread_id), db.session.get(User, author.id)
        for number in range(2, 48):
            service.reply(user, thread, f"post number {number}")
        db.session.commit()
        assert service.page_count(thread) == 10
        last = service.posts_on_page(thread, 10, viewer=None)
        assert [p.body for p in last] == ["post number 46", "post number 47"]
        ninth = service.posts_on_page(thread, 9, viewer=None)
        assert [p.position for p in ninth] == [41, 42, 43, 44, 45]
    client = app.test_client()
    page = client.get(f"/t/{thread_id}?page=10").get_data(as_text=True)
    assert "post number 47" in page
    assert client.get(f"/t/{thread_id}?page=11").status_code == 404
    assert client.get(f"/t/{thread_id}?page=last").headers["Location"].endswith("page=10")


def test_thread_listing_is_keyset_paginated(app, make_user, make_thread):
    author = make_user("author")
    for n in range(7):
        make_thread(author, title=f"Thread {n}")
    with app.app_context():
        category = service.get_category("general")
        first = service.list_threads(category, limit=3)
        second = service.list_threads(category, cursor=first.next_cursor, limit=3)
        third = service.list_threads(category, cursor=second.next_cursor, limit=3)
        titles = [t.title for t in first.items + second.items + third.items]
        assert titles == [f"Thread {n}" for n in range(6, -1, -1)]
        assert third.next_cursor is None


def test_preview_renders_sanitized_markdown(member_client):
    response = member_client.post(
        "/preview", data={"body": "**b** <script>x</script> [[product:9]]"}
    )
    html = response.get_json()["html"]
    assert "<strong>b</strong>" in html and "<script" not in html
    assert "Offer unavailable" in html  # no shop yet: the neutral card


def test_unknown_embed_renders_the_unavailable_card_in_threads(app, member, make_thread):
    thread_id = make_thread(member, body="Check this [[snap:77]]")
    page = app.test_client().get(f"/t/{thread_id}").get_data(as_text=True)
    assert "Offer unavailable" in page
