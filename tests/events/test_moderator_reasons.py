"""Taking a member off an event, and a moderator calling off someone else's event, need
a reason on every path (API and form): without one it is refused (422 on ``reason``)
and nothing changes; with one the affected members are sent it and the audit log links
the event and the member."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from forum.events.models import Event
from forum.extensions import db
from forum.moderation.models import AuditEntry
from forum.notifications.models import Notification
from tests.conftest import app_context, login


@pytest.fixture
def party(make_user, make_event, sign_up):
    event_id = make_event(capacity=1, starts_in=timedelta(hours=3))
    guests = [make_user(name) for name in ("gina", "hugo")]
    for guest in guests:
        sign_up(guest, event_id)
    return event_id, guests


def _texts(app, user, kind) -> list[str]:
    with app_context(app):
        return list(
            db.session.scalars(
                select(Notification.text).where(
                    Notification.user_id == user.id, Notification.kind == kind
                )
            )
        )


def _audit(app) -> list[tuple]:
    with app_context(app):
        return [
            (e.action, e.target_type, e.target_id, e.actor_id, e.subject_id, e.reason)
            for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]


def _cancelled(app, event_id) -> bool:
    with app_context(app):
        return db.session.get(Event, event_id).cancelled_at is not None


def test_removing_a_participant_needs_a_reason_they_are_sent(app, party, host, api, signups_of):
    event_id, (gina, hugo) = party
    before = signups_of(event_id)
    for body in (None, {}, {"reason": "  "}):
        refused = api(host)("DELETE", f"/events/{event_id}/participants/{gina.id}", json=body)
        assert refused.status_code == 422, refused.get_json()
        assert "reason" in refused.get_json()["error"]["fields"]
    too_long = api(host)(
        "DELETE", f"/events/{event_id}/participants/{gina.id}", json={"reason": "x" * 501}
    )
    assert too_long.status_code == 422
    assert signups_of(event_id) == before
    assert _texts(app, gina, "event_removed") == [] and _audit(app) == []

    done = api(host)(
        "DELETE",
        f"/events/{event_id}/participants/{gina.id}",
        json={"reason": "Rude to other guests"},
    )
    assert done.status_code == 204
    assert signups_of(event_id)["gina"][0] == "removed"
    assert signups_of(event_id)["hugo"][0] == "confirmed"
    (text,) = _texts(app, gina, "event_removed")
    assert text.endswith(": Rude to other guests")
    assert _audit(app) == [
        ("event.remove_participant", "event", event_id, host.id, gina.id, "Rude to other guests")
    ]


def test_the_remove_form_needs_a_reason_and_the_audit_log_links_event_and_member(
    app, party, host, make_user, signups_of
):
    event_id, (gina, _) = party
    browser = app.test_client()
    login(browser, host)
    before = signups_of(event_id)
    assert browser.post(f"/events/{event_id}/remove/{gina.id}").status_code == 422
    assert signups_of(event_id) == before
    manage = browser.get(f"/events/{event_id}/manage").get_data(as_text=True)
    assert 'name="reason" required' in manage
    done = browser.post(f"/events/{event_id}/remove/{gina.id}", data={"reason": "No-show twice"})
    assert done.status_code == 302
    assert signups_of(event_id)["gina"][0] == "removed"

    moderator = make_user("mod", role="moderator")
    mod_browser = app.test_client()
    login(mod_browser, moderator)
    page = mod_browser.get("/mod/audit").get_data(as_text=True)
    with app.test_request_context("/"):
        from flask import url_for

        event_link = url_for("events.detail", event_id=event_id)
        member_link = url_for("moderation.admin_user", username="gina")
    assert f'href="{event_link}"' in page and f'href="{member_link}"' in page
    assert "No-show twice" in page


def test_a_moderator_calling_off_another_hosts_event_gives_a_reason(
    app, party, host, make_user, api
):
    event_id, (gina, hugo) = party
    moderator = make_user("mod", role="moderator")
    for body in (None, {"reason": ""}):
        refused = api(moderator)("POST", f"/events/{event_id}/cancel", json=body)
        assert refused.status_code == 422
        assert "reason" in refused.get_json()["error"]["fields"]
    browser = app.test_client()
    login(browser, moderator)
    assert browser.post(f"/events/{event_id}/call-off").status_code == 422
    assert not _cancelled(app, event_id)
    assert _texts(app, gina, "event_cancelled") == [] and _audit(app) == []

    done = api(moderator)(
        "POST", f"/events/{event_id}/cancel", json={"reason": "The venue is a scam"}
    )
    assert done.status_code == 200 and _cancelled(app, event_id)
    for guest in (gina, hugo):  # seated and waitlisted alike
        (text,) = _texts(app, guest, "event_cancelled")
        assert "by a moderator: The venue is a scam" in text
    assert _audit(app) == [
        ("event.cancel", "event", event_id, moderator.id, host.id, "The venue is a scam")
    ]


def test_the_host_may_call_off_their_own_event_without_a_reason(app, party, host, api):
    event_id, (gina, _) = party
    assert api(host)("POST", f"/events/{event_id}/cancel").status_code == 200
    assert _cancelled(app, event_id)
    assert _texts(app, gina, "event_cancelled") == ["“Board-game night” was cancelled by the host."]
    assert _audit(app) == []  # the host's own event: not a moderator action
    with app_context(app):
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_a_hosts_reason_reaches_participants(app, party, host):
    event_id, (gina, _) = party
    browser = app.test_client()
    login(browser, host)
    done = browser.post(f"/events/{event_id}/call-off", data={"reason": "I am ill, sorry"})
    assert done.status_code == 302 and _cancelled(app, event_id)
    assert _texts(app, gina, "event_cancelled") == [
        "“Board-game night” was cancelled by the host: I am ill, sorry"
    ]
