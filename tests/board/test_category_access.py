"""Who may read and post in a category (role, trust level, member tier), archived
categories, and the admin edit. A hidden category leaks nothing on any read path."""

import pytest
from sqlalchemy import func, select, update

from forum.accounts.models import User
from forum.board import service
from forum.board.models import Category, Post
from forum.extensions import db
from forum.live import may_watch
from forum.notifications.models import Notification
from tests.conftest import app_context, login

SECRET = "Zanzibarquokka"  # a word only the lounge's thread uses


@pytest.fixture
def lounge(app, make_user, make_category, make_thread):
    """A VIP lounge with one thread, and a public category with one."""
    vip_id = make_category("lounge", "VIP lounge")
    public_id = make_category("general", "General")
    with app_context(app):
        db.session.execute(update(Category).where(Category.id == vip_id).values(read_tiers="vip"))
        db.session.commit()
    vip = make_user("vipmember")
    with app_context(app):
        db.session.execute(update(User).where(User.id == vip.id).values(tier="vip"))
        db.session.commit()
    thread = make_thread(
        vip, title="Hushhush gathering", body=f"The {SECRET} plan", category_id=vip_id
    )
    open_thread = make_thread(
        vip, title="Open to all", body="Hello everyone", category_id=public_id
    )
    with app_context(app):
        post = db.session.scalar(select(Post.id).where(Post.thread_id == thread))
    return {"vip": vip, "thread": thread, "post": post, "open": open_thread}


def _readers(app, make_user):
    return {
        "visitor": None,
        "member": make_user("plainmember", trust_level=4),  # trust alone does not open a tier rule
    }


def _client(app, user):
    client = app.test_client()
    if user is not None:
        login(client, user)
    return client


def test_a_hidden_category_leaks_nothing(app, make_user, lounge, token_for):
    for name, user in _readers(app, make_user).items():
        client = _client(app, user)
        headers = token_for(user) if user else {}
        # Pages: home, category, thread, post, search, the author's profile.
        for path in ("/", "/c/general", f"/u/{lounge['vip'].username}", f"/search?q={SECRET}"):
            page = client.get(path)
            assert page.status_code == 200, (name, path)
            body = page.get_data(as_text=True)
            assert "Hushhush" not in body and "VIP lounge" not in body, (name, path)
            assert "plan" not in body, (name, path)
        for path in ("/c/lounge", f"/t/{lounge['thread']}", f"/p/{lounge['post']}"):
            assert client.get(path).status_code == 404, (name, path)
        # API: categories, threads, posts, search.
        cats = client.get("/api/v1/categories", headers=headers).get_json()
        assert "lounge" not in [c["slug"] for c in cats]
        for path in (
            "/api/v1/categories/lounge/threads",
            f"/api/v1/threads/{lounge['thread']}",
        ):
            assert client.get(path, headers=headers).status_code == 404, (name, path)
        found = client.get(f"/api/v1/search?q={SECRET}", headers=headers).get_json()
        assert found["items"] == [], name
        # Posting into it is NotFound too, and writes nothing.
        if user is not None:
            posts = _count(app, Post)
            replied = client.post(
                f"/api/v1/threads/{lounge['thread']}/posts",
                json={"body": "let me in"},
                headers=headers,
            )
            assert replied.status_code == 404
            new = client.post(
                "/api/v1/threads",
                json={"category": "lounge", "title": "Sneaking in", "body": "hello"},
                headers=headers,
            )
            assert new.status_code == 404
            edit = client.patch(
                f"/api/v1/posts/{lounge['post']}", json={"body": "x"}, headers=headers
            )
            assert edit.status_code == 404
            assert (
                client.post(f"/api/v1/posts/{lounge['post']}/like", headers=headers).status_code
                == 404
            )
            assert _count(app, Post) == posts
        # Live updates of the thread.
        with app_context(app):
            viewer = db.session.get(User, user.id) if user else None
            assert not may_watch(viewer, f"thread:{lounge['thread']}")


def test_vips_and_staff_read_it(app, make_user, lounge, token_for):
    moderator = make_user("mod", role="moderator", trust_level=0)
    for user in (lounge["vip"], moderator):
        client = _client(app, user)
        assert "Hushhush" in client.get(f"/t/{lounge['thread']}").get_data(as_text=True)
        assert "VIP lounge" in client.get("/").get_data(as_text=True)
        found = client.get(f"/api/v1/search?q={SECRET}", headers=token_for(user)).get_json()
        assert len(found["items"]) == 1


def test_a_mention_from_the_lounge_tells_only_who_can_read_it(app, make_user, lounge, token_for):
    outsider = make_user("outsider")
    other_vip = make_user("othervip")
    with app_context(app):
        db.session.execute(update(User).where(User.id == other_vip.id).values(tier="vip"))
        db.session.commit()
    response = app.test_client().post(
        f"/api/v1/threads/{lounge['thread']}/posts",
        json={"body": "hey @outsider and @othervip"},
        headers=token_for(lounge["vip"]),
    )
    assert response.status_code == 201
    assert _count(app, Notification, Notification.user_id == outsider.id) == 0
    assert _count(app, Notification, Notification.user_id == other_vip.id) == 1


def _count(app, model, *where) -> int:
    with app_context(app):
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _set(app, slug, **values):
    with app_context(app):
        db.session.execute(update(Category).where(Category.slug == slug).values(**values))
        db.session.commit()


def test_post_rules_by_trust_and_role_and_archiving(
    app, make_user, make_category, make_thread, token_for
):
    make_category("general")
    announcements = make_category("news", "News")
    staffer = make_user("staffer", role="moderator")
    thread = make_thread(staffer, title="Release notes", body="v1", category_id=announcements)
    _set(app, "news", post_min_trust=2)
    member = make_user("member", trust_level=1)
    client, headers = app.test_client(), token_for(member)
    posts = _count(app, Post)
    refused = client.post(
        f"/api/v1/threads/{thread}/posts", json={"body": "me too"}, headers=headers
    )
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "category_closed"
    assert (
        client.get(f"/api/v1/threads/{thread}", headers=headers).status_code == 200
    )  # still readable
    regular = make_user("regular", trust_level=2)
    assert (
        client.post(
            f"/api/v1/threads/{thread}/posts", json={"body": "thanks"}, headers=token_for(regular)
        ).status_code
        == 201
    )
    _set(app, "news", post_min_trust=0, post_roles="merchant")
    refused = client.post(
        f"/api/v1/threads/{thread}/posts", json={"body": "me"}, headers=token_for(regular)
    )
    assert refused.status_code == 403
    _set(app, "news", post_roles="", archived=True)
    archived = client.post(
        f"/api/v1/threads/{thread}/posts", json={"body": "late"}, headers=token_for(regular)
    )
    assert (
        archived.status_code == 403 and archived.get_json()["error"]["code"] == "category_archived"
    )
    new = client.post(
        "/api/v1/threads",
        json={"category": "news", "title": "A new one", "body": "x"},
        headers=token_for(regular),
    )
    assert new.status_code == 403
    assert _count(app, Post) == posts + 1
    assert client.get(f"/api/v1/threads/{thread}", headers=headers).status_code == 200


def test_admin_edits_reorders_archives_and_restricts(app, make_user, make_category):
    make_category("general")
    make_category("lounge", "Lounge")
    admin = db_admin = make_user("siteadmin", role="admin")
    del db_admin
    client = _client(app, admin)
    page = client.get("/admin/categories").get_data(as_text=True)
    assert "who may read and post" in page
    saved = client.post(
        "/admin/categories/lounge/edit",
        data={
            "name": "VIP lounge",
            "description": "For VIPs",
            "position": "0",
            "archived": "y",
            "read_tiers": ["vip"],
            "read_min_trust": "0",
            "post_roles": ["merchant"],
            "post_min_trust": "3",
        },
    )
    assert saved.status_code == 303
    with app_context(app):
        lounge = db.session.scalar(select(Category).where(Category.slug == "lounge"))
        assert (lounge.name, lounge.position, lounge.archived) == ("VIP lounge", 0, True)
        assert (lounge.read_tiers, lounge.post_roles, lounge.post_min_trust) == (
            "vip",
            "merchant",
            3,
        )
        assert [c.slug for c in service.list_categories(db.session.get(User, admin.id))][
            0
        ] == "lounge"
    for bad in (
        {"read_tiers": ["platinum"]},
        {"read_min_trust": "9"},
        {"position": "-3"},
        {"name": "x"},
    ):
        client.post("/admin/categories/lounge/edit", data={"name": "VIP lounge", **bad})
        with app_context(app):
            lounge = db.session.scalar(select(Category).where(Category.slug == "lounge"))
            assert (lounge.name, lounge.read_tiers, lounge.read_min_trust, lounge.position) == (
                "VIP lounge",
                "vip",
                0,
                0,
            ), bad
    member = _client(app, make_user("member"))
    assert member.post("/admin/categories/lounge/edit", data={"archived": "y"}).status_code in (
        403,
        404,
    )
