"""The site's name and logo from /admin/settings are every page's header and <title>;
they are cached, so a page reads no setting row, and saving them shows the new ones at
once (the cached brand is forgotten when the save commits, not before)."""

from forum.extensions import db
from forum.moderation import service
from forum.moderation.models import SiteSetting
from tests.conftest import app_context, login

VALUES = {
    "site_name": "Trailhead Commons",
    "logo_url": "/static/favicon.svg",
    "guidelines": "",
    "flag_hide_score": "40",
    "first_posts_held": "0",
}


def _setting_reads(queries) -> int:
    return sum("site_settings" in statement for statement in queries)


def test_saved_name_and_logo_head_every_page_without_a_query(app, make_user, count_queries):
    visitor = app.test_client()
    home = visitor.get("/").get_data(as_text=True)
    assert "<title>" in home and "· Plaza</title>" in home and 'class="brand-mark"' in home

    admin = app.test_client()
    login(admin, make_user("boss", role="admin"))
    refused = admin.post(
        "/admin/settings", data={**VALUES, "site_name": ""}, follow_redirects=False
    )
    assert refused.status_code == 422
    assert "· Plaza</title>" in visitor.get("/").get_data(as_text=True)  # nothing changed
    assert admin.post("/admin/settings", data={**VALUES, "reason": "rename"}).status_code == 302

    for path in ("/", "/events", "/guidelines"):
        page = visitor.get(path).get_data(as_text=True)
        assert "· Trailhead Commons</title>" in page, path
        assert '<img class="brand-logo" src="/static/favicon.svg"' in page
        assert ">Trailhead Commons</a>" in page
    with count_queries() as queries:
        assert visitor.get("/events").status_code == 200
    assert _setting_reads(queries) == 0  # the brand came from the cache


def test_a_rolled_back_save_keeps_the_cached_brand_and_a_commit_forgets_it(app, make_user):
    admin = make_user("boss", role="admin")
    with app_context(app), app.test_request_context("/"):
        from forum.accounts.models import User

        assert service.brand() == {"site_name": "Plaza", "logo_url": ""}
        service.update_settings(db.session.get(User, admin.id), {"site_name": "Elsewhere"}, "try")
        db.session.rollback()
        assert service.brand()["site_name"] == "Plaza"
        service.update_settings(db.session.get(User, admin.id), {"site_name": "Elsewhere"}, "go")
        assert service.brand()["site_name"] == "Plaza"  # not committed yet: the old brand
        db.session.commit()
        assert service.brand()["site_name"] == "Elsewhere"
        assert db.session.get(SiteSetting, "site_name").value == "Elsewhere"
