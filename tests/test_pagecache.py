"""Anonymous readers' cached thread lists: fresh after every change, revalidated with
ETags, and never one member's view shown to anybody else."""

import re

from sqlalchemy import update

from forum.accounts.models import User
from forum.board import service as board
from forum.board.models import Post, Thread
from forum.extensions import db
from tests.conftest import app_context, login


def _titles(html: str) -> list[str]:
    return [
        " ".join(t.split()) for t in re.findall(r'class="thread-title"[^>]*>(.*?)</a>', html, re.S)
    ]


def _reply(app, user, thread_id, body="A reply"):
    with app_context(app), app.test_request_context("/"):
        board.reply(db.session.get(User, user.id), db.session.get(Thread, thread_id), body)
        db.session.commit()


def test_a_new_thread_and_a_reply_show_at_once_to_anonymous_readers(app, make_user, make_thread):
    author = make_user("writer")
    make_thread(author, title="The first thread")
    client = app.test_client()
    assert _titles(client.get("/").get_data(as_text=True)) == ["The first thread"]
    second = make_thread(author, title="The second thread")
    assert _titles(client.get("/").get_data(as_text=True)) == [
        "The second thread",
        "The first thread",
    ]
    assert "<strong>0</strong>" in client.get("/c/general").get_data(as_text=True)
    _reply(app, author, second)
    page = client.get("/c/general").get_data(as_text=True)
    assert _titles(page)[0] == "The second thread" and "<strong>1</strong>" in page


def test_304_while_nothing_changed_and_200_after_an_edit_or_a_hide(app, make_user, make_thread):
    author = make_user("writer")
    moderator = make_user("mod", role="moderator")
    thread_id = make_thread(author, title="Watched thread")
    client = app.test_client()
    for path in ("/", "/c/general"):
        first = client.get(path)
        assert first.status_code == 200 and first.headers["ETag"].startswith('W/"')
        assert first.headers["Cache-Control"] == "public, no-cache"
        assert "Cookie" in first.headers["Vary"] and first.headers["Last-Modified"]
        again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304 and again.get_data() == b""
        dated = client.get(path, headers={"If-Modified-Since": first.headers["Last-Modified"]})
        assert dated.status_code == 304
        other = client.get(path, headers={"If-None-Match": 'W/"someone-else"'})
        assert other.status_code == 200
    etag = client.get("/").headers["ETag"]
    author_client = app.test_client()
    login(author_client, author)
    with app_context(app):
        post_id = db.session.query(Post.id).filter_by(thread_id=thread_id).scalar()
    edited = author_client.post(f"/p/{post_id}/edit", data={"body": "Edited body"})
    assert edited.status_code in (302, 303)
    after_edit = client.get("/", headers={"If-None-Match": etag})
    assert after_edit.status_code == 200 and after_edit.headers["ETag"] != etag
    etag = after_edit.headers["ETag"]
    mod_client = app.test_client()
    login(mod_client, moderator)
    assert mod_client.post(f"/mod/p/{post_id}/hide", data={"reason": "spam"}).status_code == 302
    after_hide = client.get("/", headers={"If-None-Match": etag})
    assert after_hide.status_code == 200 and after_hide.headers["ETag"] != etag


def test_a_deleted_thread_leaves_the_cached_lists(app, make_user, make_thread):
    author = make_user("writer")
    make_thread(author, title="Stays here")
    gone = make_thread(author, title="Soon deleted")
    client = app.test_client()
    assert "Soon deleted" in _titles(client.get("/c/general").get_data(as_text=True))
    author_client = app.test_client()
    login(author_client, author)
    with app_context(app):
        first = db.session.query(Post.id).filter_by(thread_id=gone, position=1).scalar()
    assert author_client.post(f"/p/{first}/delete").status_code in (302, 303)
    for path in ("/", "/c/general"):
        assert _titles(client.get(path).get_data(as_text=True)) == ["Stays here"]


def test_members_never_get_the_anonymous_list_nor_give_theirs_away(app, make_user, make_thread):
    author = make_user("writer")
    moderator = make_user("mod", role="moderator")
    make_thread(author, title="Visible thread")
    deleted = make_thread(author, title="Deleted thread")
    with app_context(app):
        db.session.execute(
            update(Thread).where(Thread.id == deleted).values(deleted_at=Thread.created_at)
        )
        db.session.commit()
    mod_client = app.test_client()
    login(mod_client, moderator)
    anonymous = app.test_client()
    # The moderator first: what only a moderator sees is not left for the anonymous.
    for path in ("/", "/c/general"):
        mod_page = mod_client.get(path)
        assert "Deleted thread" in _titles(mod_page.get_data(as_text=True))
        assert mod_page.headers["Cache-Control"] == "private, no-cache"
        assert "ETag" not in mod_page.headers
        assert _titles(anonymous.get(path).get_data(as_text=True)) == ["Visible thread"]
    # The anonymous list is cached now; members still get their own.
    for path in ("/", "/c/general"):
        etag = anonymous.get(path).headers["ETag"]
        mine = mod_client.get(path, headers={"If-None-Match": etag})
        assert mine.status_code == 200 and "Deleted thread" in mine.get_data(as_text=True)
        assert "mod" in mine.get_data(as_text=True)
    member_client = app.test_client()
    login(member_client, author)
    page = member_client.get("/").get_data(as_text=True)
    assert "Join the community" not in page and "writer" in page
    assert "writer" not in anonymous.get("/").get_data(as_text=True).split("<main")[0]


def test_a_waiting_flash_message_is_shown_not_cached_over(app, make_user, make_thread):
    author = make_user("writer")
    make_thread(author)
    client = app.test_client()
    client.get("/")  # the list is cached
    login(client, author)
    logged_out = client.post("/logout", follow_redirects=True)
    assert logged_out.status_code == 200 and "You are logged out." in logged_out.get_data(
        as_text=True
    )
    assert "ETag" not in logged_out.headers


def test_category_pages_step_through_pinned_and_tied_threads_exactly_once(
    app, make_user, make_thread
):
    author = make_user("writer")
    moderator = make_user("mod", role="moderator")
    ids = [make_thread(author, title=f"Thread number {n}") for n in range(9)]
    with app_context(app):
        same = db.session.get(Thread, ids[0]).last_activity_at
        # Ties on the time: the id orders them; two pinned ones come first.
        db.session.execute(
            update(Thread).where(Thread.id.in_(ids[:6])).values(last_activity_at=same)
        )
        db.session.commit()
    mod_client = app.test_client()
    login(mod_client, moderator)
    for pinned in (ids[2], ids[7]):
        assert (
            mod_client.post(f"/mod/t/{pinned}/pin", data={"reason": "Keep on top"}).status_code
            == 302
        )
    with app_context(app):
        rows = db.session.query(Thread.id).order_by(
            Thread.pinned.desc(), Thread.last_activity_at.desc(), Thread.id.desc()
        )
        expected = [row.id for row in rows]
    client = app.test_client()
    seen, url = [], "/c/general?limit=2"
    while url:
        html = client.get(url).get_data(as_text=True)
        seen += [int(i) for i in re.findall(r'class="thread-title" href="/t/(\d+)"', html)]
        more = re.search(r'class="pager"><a class="btn"[^>]* href="([^"]+)"', html)
        url = more.group(1).replace("&amp;", "&") if more else None
        assert len(seen) <= len(expected)
    assert seen == expected and seen[:2] == [ids[7], ids[2]]
