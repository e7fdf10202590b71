"""Recommendations from a hand-made community: what each member is shown and why, what
is never shown (bought, sold out, out of tier, private rooms, unreadable threads),
newcomers' popular lists, the periodic task, and serving as one indexed read."""

import pytest

from forum.extensions import db
from forum.recommend import service
from forum.recommend.models import Recommendation
from forum.tasks import beat_schedule
from tests.conftest import app_context, login
from tests.recommend import world as world_module

world = world_module.world  # the fixture


@pytest.fixture
def computed(app, world):
    with app_context(app), app.test_request_context("/"):
        assert service.recompute() > 0
        db.session.commit()
    return world


def lists(client, user, token_for):
    response = client.get("/api/v1/me/recommendations", headers=token_for(user))
    assert response.status_code == 200, response.json
    return response.json


def by_title(items):
    return {item["title"]: item["reason"] for item in items}


def test_threads_from_what_similar_readers_read_with_the_reason(client, computed, token_for):
    mine = lists(client, computed["refs"]["alice"], token_for)
    assert mine["personal"] is True
    threads = by_title(mine["threads"])
    # bob and carol, who read Grinder advice (where alice replied), read these too.
    assert threads["Best beans"] == "Because you replied in \u201cGrinder advice\u201d"
    assert threads["Milk steaming"] == "Because you replied in \u201cGrinder advice\u201d"
    assert "Grinder advice" not in threads  # already hers
    assert "Lounge talk" not in threads  # the VIP lounge: alice may not read it
    assert mine["threads"][0]["href"].startswith("/t/")


def test_offers_exclude_bought_sold_out_and_out_of_tier(client, computed, token_for):
    offers = by_title(lists(client, computed["refs"]["alice"], token_for)["offers"])
    assert offers == {
        "House beans": "Because you joined the Grinder group-buy",
        # Clicked, not bought: still offered; the group-buy is the stronger reason.
        "Steel tamper": "Because you joined the Grinder group-buy",
    }
    # Not the grinder (bought), the scale (sold out) nor the kettle (VIP only).


def test_vip_member_is_offered_what_their_tier_allows(app, client, computed, token_for):
    from sqlalchemy import update

    from forum.accounts.models import User

    with app_context(app):
        db.session.execute(
            update(User).where(User.id == computed["users"]["alice"]).values(tier="vip")
        )
        db.session.commit()
    with app_context(app), app.test_request_context("/"):
        service.recompute()
        db.session.commit()
    mine = lists(client, computed["refs"]["alice"], token_for)
    assert "Gooseneck kettle" in by_title(mine["offers"])
    assert "Lounge talk" in by_title(mine["threads"])  # a VIP reads the lounge


def test_rooms_never_private_and_events_by_co_attendance(client, computed, token_for):
    mine = lists(client, computed["refs"]["alice"], token_for)
    assert by_title(mine["rooms"]) == {"Espresso chat": "Members of General chat here too"}
    assert by_title(mine["events"]) == {
        "Latte art night": "Members who signed up for \u201cCupping\u201d are going"
    }
    # bob is in Secret: it is still never suggested to him or anyone else.
    for name in ("bob", "carol", "newbie"):
        rooms = lists(client, computed["refs"][name], token_for)["rooms"]
        assert "Secret" not in by_title(rooms)


def test_newcomer_gets_what_is_popular_this_week(client, computed, token_for):
    mine = lists(client, computed["refs"]["newbie"], token_for)
    assert mine["personal"] is False
    threads = by_title(mine["threads"])
    assert set(threads.values()) == {"Popular this week"}
    assert "Lounge talk" not in threads  # popular lists are open to every reader
    assert "Grinder advice" in threads  # the most read and replied this week
    offers = by_title(mine["offers"])
    assert set(offers) == {"Grinder", "House beans", "Steel tamper"}  # not sold out, not VIP
    assert "Secret" not in by_title(mine["rooms"])


def test_suggested_threads_under_a_thread(app, client, computed, make_user):
    login(client, computed["refs"]["newbie"])
    page = client.get(f"/t/{computed['threads']['B']}").get_data(as_text=True)
    assert "Suggested threads" in page
    assert "Readers of this thread also read it" in page
    assert "Milk steaming" in page and "Lounge talk" not in page
    with app_context(app):
        rows = service.suggested_for(computed["threads"]["B"], None)
        titles = [row.title for row in rows]
    assert "Best beans" not in titles and "Lounge talk" not in titles


def test_front_page_shows_for_you_to_members_only(app, client, computed):
    assert "For you" not in client.get("/").get_data(as_text=True)
    login(client, computed["refs"]["alice"])
    page = client.get("/").get_data(as_text=True)
    assert "For you" in page
    assert "Because you joined the Grinder group-buy" in page


def test_api_needs_a_signed_in_member(client, computed):
    response = client.get("/api/v1/me/recommendations")
    assert response.status_code == 401
    assert response.json["error"]["code"]


def test_serving_is_one_indexed_read(app, computed, count_queries):
    from forum.accounts.models import User

    with app_context(app), app.test_request_context("/"):
        alice = db.session.get(User, computed["users"]["alice"])
        db.session.expire_all()
        alice = db.session.get(User, computed["users"]["alice"])
        with count_queries() as queries:
            service.for_member(alice)
    reads = [q for q in queries if "recommendations" in q]
    assert len(reads) == 1
    assert len(queries) <= 2  # plus the restricted categories (a handful of rows)


def test_the_task_is_scheduled_and_idempotent(app, world):
    from forum.recommend.tasks import recompute

    assert "recommend.recompute" in {e["task"] for e in beat_schedule(60).values()}
    first = recompute.delay().get()
    with app_context(app):
        before = sorted(
            (r.subject, r.kind, r.rank, r.target_id, r.reason)
            for r in db.session.scalars(db.select(Recommendation))
        )
    second = recompute.delay().get()
    with app_context(app):
        after = sorted(
            (r.subject, r.kind, r.rank, r.target_id, r.reason)
            for r in db.session.scalars(db.select(Recommendation))
        )
    assert first == second == len(after) > 0
    assert before == after


def test_a_member_who_lost_access_no_longer_sees_the_thread(app, client, computed, token_for):
    from sqlalchemy import update

    from forum.accounts.models import User

    with app_context(app):
        db.session.execute(
            update(User).where(User.id == computed["users"]["alice"]).values(tier="vip")
        )
        db.session.commit()
    with app_context(app), app.test_request_context("/"):
        service.recompute()
        db.session.commit()
        db.session.execute(
            update(User).where(User.id == computed["users"]["alice"]).values(tier="registered")
        )
        db.session.commit()
    # Until the next run, serving still drops what her tier no longer reads.
    assert "Lounge talk" not in by_title(
        lists(client, computed["refs"]["alice"], token_for)["threads"]
    )
