"""GETs never write: opening the main member pages, as a member and as a visitor, runs no
INSERT, UPDATE or DELETE. What a page's opening records (a thread or room read, trust's
reading, the notifications the bell's page showed, following one) is sent by the page's
own POST beacon or form afterwards; a team whose time is up reads its state from the
clock and is settled by the sweep or the next write."""

import re
from datetime import timedelta

import pytest
import time_machine

from forum.accounts.models import User
from forum.board.models import Thread
from forum.clock import now
from forum.extensions import db
from forum.notifications.models import Notification
from tests.conftest import app_context, login

WRITE = re.compile(r"^\s*(?:WITH\b.*?\)\s*)?(INSERT|UPDATE|DELETE|REPLACE|MERGE)\b", re.I | re.S)

#: GET pages known to write, each owned by a feature another session is changing: to fix.
KNOWN_WRITERS: set[str] = set()


def writes(statements: list[str]) -> list[str]:
    return [" ".join(sql.split())[:160] for sql in statements if WRITE.match(sql)]


@pytest.fixture
def site(app, client, make_user, make_thread, make_shop, make_product, token_for):
    """A little of everything the member pages show, with something unread for the member."""
    from forum.board import service as board
    from forum.chat import service as chat
    from forum.events import service as events

    member, other = make_user("member"), make_user("other")
    admin = make_user("siteadmin", role="admin")
    thread_id = make_thread(member, title="Favourite teapots", body="Mine is blue.")
    shop = make_shop()
    product_id = make_product(shop, "Blue teapot")
    group_buy = client.post(
        "/api/v1/group-buys",
        json={
            "product_id": product_id,
            "group_price_cents": 900,
            "team_size": 3,
            "team_window_minutes": 60,
            "ends_at": (now() + timedelta(days=3)).isoformat(),
        },
        headers=shop.headers,
    )
    assert group_buy.status_code == 201, group_buy.json
    team = client.post(f"/api/v1/group-buys/{group_buy.json['id']}/teams", headers=token_for(other))
    assert team.status_code in (200, 201), team.json
    team_id = team.json["team_id"]
    with app_context(app), app.test_request_context("/"):
        replier = db.session.get(User, other.id)
        board.reply(replier, db.session.get(Thread, thread_id), "@member mine is green.")
        room = chat.create_public_room(db.session.get(User, admin.id), "lounge", "Lounge")
        chat.send_message(replier, room, "Hello lounge")
        starts = now() + timedelta(days=3)
        happening = events.create_event(
            db.session.get(User, other.id),
            title="Teapot swap",
            description="Bring **one**.",
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            location="The hall",
            capacity=10,
        )
        db.session.commit()
        (notification_id,) = db.session.scalars(
            db.select(Notification.id).where(Notification.user_id == member.id)
        ).all()
        return {
            "member": member,
            "team_path": f"/promotions/teams/{team_id}",
            "pages": [
                "/",
                "/c/general",
                f"/t/{thread_id}",
                f"/t/{thread_id}?page=1",
                "/u/other",
                "/u/member",
                "/chat/",
                "/chat/lounge",
                "/events",
                f"/events/{happening.id}",
                f"/shop/p/{product_id}",
                "/shop/",
                "/search?q=teapot",
                "/notifications/",
                f"/notifications/{notification_id}",
                f"/promotions/teams/{team_id}",
                "/settings",
                "/settings/notifications",
                "/bookmarks",
            ],
        }


def test_member_pages_write_nothing(app, site, count_queries):
    client = app.test_client()
    login(client, site["member"])
    for path in site["pages"]:
        with count_queries() as statements:
            response = client.get(path)
        assert response.status_code == (302 if path == "/chat/" else 200), path
        if path == "/notifications/":
            assert 'class="is-unread"' in response.get_data(as_text=True)  # still unread
        if path in KNOWN_WRITERS:
            continue
        assert writes(statements) == [], f"GET {path} wrote"


def test_visitor_pages_write_nothing(app, site, count_queries):
    client = app.test_client()
    for path in site["pages"]:
        with count_queries() as statements:
            response = client.get(path)
        assert response.status_code in (200, 302), path
        assert writes(statements) == [], f"GET {path} wrote"


def test_the_counter_sees_a_write(app, site, count_queries):
    """The probe itself: the read beacon's POST is counted as a write."""
    client = app.test_client()
    login(client, site["member"])
    thread_path = next(p for p in site["pages"] if p.startswith("/t/"))
    with count_queries() as statements:
        assert client.post(f"{thread_path}/read", data={"position": "1"}).status_code == 200
    assert any(w.upper().startswith(("INSERT", "UPDATE")) for w in writes(statements))


def test_a_team_whose_time_is_up_reads_as_failed_without_settling(app, site, count_queries):
    """The page shows the state the clock says; the sweep (or the next join) settles it."""
    from forum.promotions.models import Team
    from forum.promotions.tasks import settle_teams

    client = app.test_client()
    login(client, site["member"])
    with time_machine.travel(now() + timedelta(minutes=61), tick=False):
        with count_queries() as statements:
            response = client.get(site["team_path"])
        assert response.status_code == 200
        assert 'data-team-status="failed"' in response.get_data(as_text=True)
        assert writes(statements) == [], "GET of an expired team wrote"
        team_id = int(site["team_path"].rsplit("/", 1)[1])
        with app_context(app):
            db.session.remove()
            assert db.session.get(Team, team_id).status == "forming"  # not settled by reading
        assert settle_teams.delay().get() == 1
        with app_context(app):
            db.session.remove()
            assert db.session.get(Team, team_id).status == "failed"
        assert 'data-team-status="failed"' in client.get(site["team_path"]).get_data(as_text=True)
