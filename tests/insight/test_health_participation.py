"""Community health, continued, from hand-built members on a controlled clock: the member
funnel registered -> shopper -> VIP per week, chat activity per day, and event attendance
and no-show rates, each equal to the hand computation beside it."""

from datetime import UTC, datetime, timedelta

import pytest

from forum.chat.models import ChatMessage, ChatRoom
from forum.clock import replaying
from forum.events.models import Event, Signup
from forum.extensions import db
from forum.members.models import Membership, TierChange
from tests.conftest import app_context, login

RANGE = {"from": "2026-03-02", "to": "2026-03-15"}  # weeks start on the 2nd and the 9th


def at(day: int, hour: int = 12, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


@pytest.fixture
def admin_headers(make_user, token_for):
    with replaying(at(1, 9, month=1)):
        return token_for(make_user("root", role="admin"))


@pytest.fixture
def journeys(app, make_user):
    """ann (January): shopper 02-20, VIP 03-10.  ben (03-03): shopper 03-04, demoted
    03-12 (still reached).  cat (03-10): stays registered.  dan (03-16, after the range).
    Chat: ann 2 public messages on 03-03 and 1 private on 03-11; ben 1 on 03-11; one
    deleted message of cat's on 03-11 does not count; one on 03-16 is outside the range.
    Events: "Cupping" 03-05 (ann attended, ben no-show, cat confirmed but unmarked, one
    cancelled sign-up), "Ride" 03-12 cancelled (nothing counts), "Later" 03-20 (outside).
    """
    users = {}
    for name, moment in (
        ("ann", at(5, month=1)),
        ("ben", at(3)),
        ("cat", at(10)),
        ("dan", at(16)),
    ):
        with replaying(moment):
            users[name] = make_user(name).id
    with app_context(app):
        for name, moves in (
            ("ann", [("registered", "shopper", at(20, month=2)), ("shopper", "vip", at(10))]),
            ("ben", [("registered", "shopper", at(4)), ("shopper", "registered", at(12))]),
        ):
            for before, after, moment in moves:
                db.session.add(
                    TierChange(
                        user_id=users[name],
                        from_tier=before,
                        to_tier=after,
                        reason="test",
                        created_at=moment,
                    )
                )
        db.session.merge(Membership(user_id=users["ann"], tier="vip", tier_since=at(10)))
        rooms = {}
        for slug, kind in (("lobby", "public"), ("inner", "private")):
            room = ChatRoom(slug=slug, name=slug.title(), kind=kind)
            db.session.add(room)
            db.session.flush()
            rooms[slug] = room.id
        seq = iter(range(1, 100))
        for name, slug, moment, deleted in (
            ("ann", "lobby", at(3, 9), False),
            ("ann", "lobby", at(3, 10), False),
            ("ann", "inner", at(11, 9), False),
            ("ben", "lobby", at(11, 10), False),
            ("cat", "lobby", at(11, 11), True),
            ("ben", "lobby", at(16, 10), False),
        ):
            db.session.add(
                ChatMessage(
                    room_id=rooms[slug],
                    seq=next(seq),
                    author_id=users[name],
                    body="hi",
                    body_html="<p>hi</p>",
                    created_at=moment,
                    deleted_at=moment + timedelta(minutes=1) if deleted else None,
                )
            )
        code = iter(range(100))

        def event(title, starts, signups, cancelled=False):
            made = Event(
                host_id=users["ann"],
                title=title,
                starts_at=starts,
                ends_at=starts + timedelta(hours=2),
                cancelled_at=starts - timedelta(days=1) if cancelled else None,
            )
            db.session.add(made)
            db.session.flush()
            for name, status, attendance in signups:
                db.session.add(
                    Signup(
                        event_id=made.id,
                        user_id=users[name],
                        status=status,
                        attendance=attendance,
                        checkin_code=f"K{next(code)}",
                    )
                )

        event(
            "Cupping",
            at(5, 18),
            [
                ("ann", "confirmed", "attended"),
                ("ben", "confirmed", "no_show"),
                ("cat", "confirmed", None),
                ("dan", "cancelled", None),
            ],
        )
        event("Ride", at(12, 8), [("ann", "confirmed", "attended")], cancelled=True)
        event("Later", at(20, 8), [("ben", "confirmed", None)])
        db.session.commit()
    return users


def health(client, headers):
    response = client.get("/api/v1/admin/health", query_string=RANGE, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def test_member_funnel_per_week(client, journeys, admin_headers):
    funnel = health(client, admin_headers)["funnel"]
    # Week of 03-02 ends 03-09: root and ann (January) and ben; ann and ben reached shopper.
    # Week of 03-09 ends 03-16 (the range's end): cat joins; ann became VIP; ben's demotion
    # does not undo having reached shopper; dan (03-16) is after the range.
    assert funnel["weeks"] == [
        {"week_start": "2026-03-02", "registered": 3, "shoppers": 2, "vips": 0},
        {"week_start": "2026-03-09", "registered": 4, "shoppers": 2, "vips": 1},
    ]
    assert funnel["shopper_share"] == 0.5
    assert funnel["vip_share"] == 0.5


def test_chat_activity_per_day(client, journeys, admin_headers):
    chat = health(client, admin_headers)["chat"]
    busy = {d["day"]: d for d in chat["days"] if d["messages"]}
    assert busy == {
        "2026-03-03": {"day": "2026-03-03", "messages": 2, "chatters": 1, "public_messages": 2},
        "2026-03-11": {"day": "2026-03-11", "messages": 2, "chatters": 2, "public_messages": 1},
    }
    assert (chat["messages"], chat["chatters"]) == (4, 2)
    assert len(chat["days"]) == 14


def test_event_attendance_and_no_shows(client, journeys, admin_headers):
    events = health(client, admin_headers)["events"]
    # Only Cupping: Ride was cancelled, Later starts after the range; dan had cancelled.
    assert events["events"] == 1
    assert (events["signed_up"], events["attended"], events["no_shows"]) == (3, 1, 1)
    assert events["attendance_rate"] == round(1 / 3, 4)
    assert events["no_show_rate"] == 0.5  # of the two the host marked
    assert [
        (e["title"], e["signed_up"], e["attended"], e["no_shows"]) for e in events["by_event"]
    ] == [("Cupping", 3, 1, 1)]


def test_admin_page_shows_the_new_sections(client, journeys, make_user):
    login(client, make_user("boss", role="admin"))
    html = client.get("/admin/health", query_string=RANGE).get_data(as_text=True)
    assert 'data-table="funnel"' in html and 'data-table="chat"' in html
    assert 'data-total="no-shows">50%<' in html
    assert ">Cupping</a>" in html
