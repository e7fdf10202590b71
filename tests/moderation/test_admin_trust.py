"""The admin's member page sets a trust level through trust's grant, with a reason:
without one nothing changes; with one the level moves, the audit log links the member
and the page comes back."""

from sqlalchemy import select

from forum.accounts.models import User
from forum.extensions import db
from forum.moderation.models import AuditEntry
from tests.conftest import app_context, login


def _level(app, user_id) -> int:
    with app_context(app):
        return db.session.get(User, user_id).trust_level


def test_the_admin_user_page_grants_a_trust_level_with_a_reason(app, make_user):
    member, mod = make_user("newbie", trust_level=1), make_user("mod", role="moderator")
    browser = app.test_client()
    login(browser, mod)
    page = browser.get("/admin/users/newbie").get_data(as_text=True)
    assert "data-trust-grant" in page and "TODO" not in page
    form = {"username": "newbie", "level": "3", "next": "/admin/users/newbie"}
    browser.post("/admin/trust/grant", data=form)
    assert _level(app, member.id) == 1
    with app_context(app):
        assert db.session.scalar(select(AuditEntry.id)) is None
    done = browser.post("/admin/trust/grant", data={**form, "reason": "Runs the meetups"})
    assert done.status_code == 303 and done.headers["Location"].endswith("/admin/users/newbie")
    assert _level(app, member.id) == 3
    with app_context(app):
        (entry,) = db.session.scalars(select(AuditEntry)).all()
        assert (entry.action, entry.subject_id, entry.reason) == (
            "user.trust_level",
            member.id,
            "Runs the meetups",
        )
    assert "Runs the meetups" in browser.get("/admin/users/newbie").get_data(as_text=True)


def test_a_member_cannot_grant_and_next_never_leaves_the_site(app, make_user):
    member, mod = make_user("newbie"), make_user("mod", role="moderator")
    other = app.test_client()
    login(other, make_user("rascal"))
    form = {"username": "newbie", "level": "4", "reason": "because"}
    assert other.post("/admin/trust/grant", data=form).status_code == 403
    assert _level(app, member.id) == 0
    browser = app.test_client()
    login(browser, mod)
    away = browser.post("/admin/trust/grant", data={**form, "next": "//evil.example/"})
    assert "evil.example" not in away.headers["Location"]
    assert away.headers["Location"].endswith("/u/newbie") and _level(app, member.id) == 4
