"""The pages: guidelines at sign-up, site settings (admins, with a reason), the audit
log linking every entry to its item and people, the flag form."""

from sqlalchemy import select

from forum.accounts.models import User
from forum.extensions import db
from forum.moderation.models import AuditEntry, Flag
from tests.conftest import app_context, login

from .helpers import first_post_id

GUIDELINES = "Be **kind**. No spam.<script>alert(1)</script>"


def _write_guidelines(app, make_user, text=GUIDELINES):
    admin = make_user("boss", role="admin")
    page = app.test_client()
    login(page, admin)
    values = {
        "site_name": "Plaza",
        "logo_url": "",
        "guidelines": text,
        "flag_hide_score": "40",
        "first_posts_held": "0",
    }
    assert page.post("/admin/settings", data=values).status_code == 422  # no reason
    done = page.post("/admin/settings", data={**values, "reason": "first rules"})
    assert done.status_code == 302
    return page


def test_sign_up_shows_and_requires_the_guidelines(app, make_user):
    visitor = app.test_client()
    assert "accept_guidelines" not in visitor.get("/register").get_data(as_text=True)
    _write_guidelines(app, make_user)
    form = visitor.get("/register").get_data(as_text=True)
    assert (
        "<strong>kind</strong>" in form and "<script>" not in form and "accept_guidelines" in form
    )
    data = {"username": "newbie", "email": "newbie@example.com", "password": "long enough pass"}
    refused = visitor.post("/register", data=data)
    assert refused.status_code == 422 and "accept the community guidelines" in refused.get_data(
        as_text=True
    )
    with app_context(app):
        assert db.session.scalar(select(User).where(User.username == "newbie")) is None
    assert visitor.post("/register", data={**data, "accept_guidelines": "y"}).status_code == 302
    with app_context(app):
        assert (
            db.session.scalar(select(User).where(User.username == "newbie")).guidelines_accepted_at
            is not None
        )
    assert "<strong>kind</strong>" in visitor.get("/guidelines").get_data(as_text=True)


def test_site_settings_are_admins_only_and_checked(app, make_user):
    mod = app.test_client()
    login(mod, make_user("mod", role="moderator"))
    assert mod.get("/admin/settings").status_code == 403
    page = _write_guidelines(app, make_user)
    bad = page.post(
        "/admin/settings",
        data={"site_name": "", "flag_hide_score": "-1", "logo_url": "javascript:x", "reason": "x"},
    )
    assert bad.status_code == 422
    html = page.get("/admin/settings").get_data(as_text=True)
    assert "No spam." in html
    with app_context(app):
        from forum.moderation import service

        assert service.setting("flag_hide_score") == 40
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "settings.update"))
        assert entry.reason == "first rules"


def test_the_flag_form_page_and_dialog(app, make_user, make_thread):
    author, reader = make_user("author"), make_user("reader")
    post_id = first_post_id(app, make_thread(author))
    page = app.test_client()
    login(page, reader)
    thread_html = page.get(f"/p/{post_id}", follow_redirects=True).get_data(as_text=True)
    assert f'data-flag-id="{post_id}"' in thread_html and 'id="flag-dialog"' in thread_html
    assert "/guidelines" in thread_html
    form = page.get(f"/mod/flag?target=post&target_id={post_id}")
    assert form.status_code == 200 and "community guidelines" in form.get_data(as_text=True)
    assert page.get("/mod/flag?target=post&target_id=99999").status_code == 404
    sent = page.post(
        "/mod/flag",
        data={
            "target": "post",
            "target_id": str(post_id),
            "reason": "off_topic",
            "next": "//evil.example/x",
        },
    )
    assert sent.status_code == 302 and "evil.example" not in sent.headers["Location"]
    with app_context(app):
        assert db.session.scalar(select(Flag.reason)) == "off_topic"


def test_the_audit_log_links_every_entry(app, client, make_user, make_thread, token_for):
    author, mod = make_user("author"), make_user("mod", role="moderator")
    thread_id = make_thread(author)
    post_id = first_post_id(app, thread_id)
    page = app.test_client()
    login(page, mod)
    page.post(f"/mod/t/{thread_id}/lock", data={"reason": "cooling off"})
    page.post(f"/mod/p/{post_id}/hide", data={"reason": "rude"})
    page.post("/mod/u/author/silence", data={"minutes": "60", "reason": "flooding"})
    client.post(
        "/api/v1/flags",
        json={"target": "user", "target_id": author.id, "reason": "spam"},
        headers=token_for(make_user("reader")),
    )
    with app_context(app):
        item_id = db.session.scalar(select(Flag.item_id))
    client.post(
        f"/api/v1/moderation/queue/{item_id}/decide",
        json={"action": "agree", "reason": "spam bio"},
        headers=token_for(mod),
    )
    html = page.get("/mod/audit").get_data(as_text=True)
    with app_context(app):
        entries = db.session.scalars(select(AuditEntry)).all()
    assert {e.action for e in entries} == {
        "thread.lock",
        "post.hide",
        "user.silence",
        "queue.agree",
    }
    for entry in entries:
        assert entry.reason and entry.subject_id == author.id
        row = html[html.index(f'data-audit-entry="{entry.id}"') :].split("</tr>")[0]
        assert "/admin/users/mod" in row and "/admin/users/author" in row, row  # the people
        assert "href=" in row.split("<code>")[1], row  # the item
        assert entry.reason in row
    assert page.get(f"/mod/target/post/{post_id}").status_code == 302
    assert page.get(f"/admin/users/id/{author.id}").status_code == 302
