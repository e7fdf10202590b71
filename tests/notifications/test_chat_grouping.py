"""Chat mentions and direct messages are grouped like thread replies: one unread row per
member and room ("alice and 2 others mentioned you in #coffee", "3 new messages from
bob"), read when the member reads the room, and one row however many land at once."""

import pytest
from sqlalchemy import select

from forum.accounts.models import User
from forum.chat import service as chat
from forum.extensions import db
from forum.notifications.models import Notification
from tests.conftest import app_context
from tests.fixtures.concurrency import small_pool

WORKERS = 12


@pytest.fixture
def config_overrides():
    return small_pool()


def make_room(app, admin, slug="coffee"):
    with app_context(app), app.test_request_context("/"):
        room = chat.create_public_room(db.session.get(User, admin.id), slug, slug.title(), "")
        db.session.commit()
        return room.slug


def make_direct(app, a, b):
    with app_context(app), app.test_request_context("/"):
        room = chat.open_direct(db.session.get(User, a.id), db.session.get(User, b.id))
        db.session.commit()
        return room.slug


def send(app, slug, author, body):
    with app_context(app), app.test_request_context("/"):
        user = db.session.get(User, author.id)
        message = chat.send_message(user, chat.get_room(slug, viewer=user), body)
        db.session.commit()
        return message.id


def rows_of(app, user_id, kind):
    with app_context(app):
        return db.session.scalars(
            select(Notification)
            .where(Notification.user_id == user_id, Notification.kind == kind)
            .order_by(Notification.id)
        ).all()


def test_mentions_in_a_room_ring_the_bell_once_naming_who(app, make_user):
    admin = make_user("roomadmin", role="admin")
    alice, bob, carol, dave = (make_user(n) for n in ("alice", "bob", "carol", "dave"))
    slug = make_room(app, admin)
    first = send(app, slug, alice, "@bob have you tried the new beans?")
    send(app, slug, carol, "@bob yes, tell us")
    send(app, slug, alice, "@bob still there?")
    send(app, slug, dave, "@bob the Ethiopian one")
    send(app, slug, carol, "no mention here")

    (row,) = rows_of(app, bob.id, "chat_mention")
    assert row.text == "dave and 2 others mentioned you in #Coffee"
    assert row.count == 4 and row.actor_count == 3 and row.read_at is None
    assert row.actor_names == ["dave", "alice", "carol"]
    assert row.target.startswith("room:") and row.url.endswith(f"#m-{first}")  # first unread
    assert rows_of(app, alice.id, "chat_mention") == []


def test_two_mentioners_are_both_named(app, make_user):
    admin = make_user("roomadmin", role="admin")
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    slug = make_room(app, admin)
    send(app, slug, alice, "@bob hi")
    send(app, slug, carol, "@bob hi too")
    (row,) = rows_of(app, bob.id, "chat_mention")
    assert row.text == "carol and alice mentioned you in #Coffee"


def test_direct_messages_are_counted_per_conversation(app, make_user):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    with_alice = make_direct(app, alice, bob)
    with_carol = make_direct(app, carol, bob)
    send(app, with_alice, alice, "hi")
    (row,) = rows_of(app, bob.id, "chat_direct")
    assert row.text == "alice sent you a direct message" and row.count == 1
    send(app, with_alice, alice, "are you coming on Saturday?")
    send(app, with_alice, alice, "bring the grinder")
    send(app, with_carol, carol, "hello from carol")
    by_target = {r.target: r for r in rows_of(app, bob.id, "chat_direct")}
    assert len(by_target) == 2
    texts = sorted(r.text for r in by_target.values())
    assert texts == ["3 new messages from alice", "carol sent you a direct message"]
    assert rows_of(app, alice.id, "chat_direct") == []  # the sender is never told


def test_reading_the_room_closes_its_group_and_the_next_message_starts_another(app, make_user):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    slug = make_direct(app, alice, bob)
    other = make_direct(app, carol, bob)
    send(app, slug, alice, "one")
    send(app, slug, alice, "two")
    send(app, other, carol, "elsewhere")
    with app_context(app), app.test_request_context("/"):
        reader = db.session.get(User, bob.id)
        assert chat.mark_read(reader, chat.get_room(slug, viewer=reader)) == 0
        db.session.commit()
    rows = rows_of(app, bob.id, "chat_direct")
    read = {r.text: r.read_at is not None for r in rows}
    assert read == {"2 new messages from alice": True, "carol sent you a direct message": False}

    send(app, slug, alice, "three")
    newest = rows_of(app, bob.id, "chat_direct")[-1]
    assert newest.text == "alice sent you a direct message" and newest.read_at is None


def test_reading_only_part_of_the_room_keeps_the_group_open(app, make_user):
    admin = make_user("roomadmin", role="admin")
    alice, bob = make_user("alice"), make_user("bob")
    slug = make_room(app, admin)
    first = send(app, slug, alice, "@bob one")
    send(app, slug, alice, "@bob two")
    with app_context(app), app.test_request_context("/"):
        reader = db.session.get(User, bob.id)
        room = chat.get_room(slug, viewer=reader)
        chat.join(reader, room)
        assert chat.mark_read(reader, room, first) == 1
        db.session.commit()
    (row,) = rows_of(app, bob.id, "chat_mention")
    assert row.read_at is None and row.count == 2


def test_a_muted_type_groups_nothing(app, make_user):
    from forum.notifications import service as notifications

    alice, bob = make_user("alice"), make_user("bob")
    slug = make_direct(app, alice, bob)
    with app_context(app):
        notifications.set_in_app(bob.id, {"dm": False})
        db.session.commit()
    send(app, slug, alice, "hi")
    send(app, slug, alice, "hi again")
    assert rows_of(app, bob.id, "chat_direct") == []


def test_many_mentions_at_once_make_one_group_counting_each(app, race, make_user):
    admin = make_user("roomadmin", role="admin")
    bob = make_user("bob")
    authors = [make_user(f"member{i}") for i in range(WORKERS)]
    slug = make_room(app, admin)

    def work(index):
        user = db.session.get(User, authors[index].id)
        chat.send_message(user, chat.get_room(slug, viewer=user), f"@bob number {index}")
        return index

    results, errors = race(WORKERS, work)
    assert errors == [] and sorted(results) == list(range(WORKERS))
    (row,) = rows_of(app, bob.id, "chat_mention")
    assert row.count == WORKERS and row.actor_count == WORKERS
    assert sorted(row.actor_names) == sorted(a.username for a in authors)
    assert row.text.endswith(f"and {WORKERS - 1} others mentioned you in #Coffee")


def test_many_direct_messages_at_once_make_one_group_counting_each(app, race, make_user):
    alice, bob = make_user("alice"), make_user("bob")
    slug = make_direct(app, alice, bob)

    def work(index):
        user = db.session.get(User, alice.id)
        chat.send_message(user, chat.get_room(slug, viewer=user), f"message {index}")
        return index

    results, errors = race(WORKERS, work)
    assert errors == [] and sorted(results) == list(range(WORKERS))
    (row,) = rows_of(app, bob.id, "chat_direct")
    assert row.count == WORKERS and row.text == f"{WORKERS} new messages from alice"
