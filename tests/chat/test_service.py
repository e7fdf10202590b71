"""Chat rules called directly, and their behaviour under concurrent writers."""

import threading

import pytest
from sqlalchemy import select

from forum.accounts.models import User
from forum.chat import service
from forum.chat.models import ChatMember, ChatMessage, ChatRoom
from forum.errors import Conflict, Forbidden, NotFound, ValidationFailed
from forum.extensions import db


@pytest.fixture
def users(app, make_user):
    return {name: make_user(name) for name in ("alice", "bob", "carol")}


def load(ref) -> User:
    return db.session.get(User, ref.id)


def test_direct_rooms_are_one_per_pair(app, users):
    with app.app_context(), app.test_request_context("/"):
        alice, bob = load(users["alice"]), load(users["bob"])
        room = service.open_direct(alice, bob)
        db.session.commit()
        assert service.open_direct(bob, alice).id == room.id
        assert room.slug == f"dm-{min(alice.id, bob.id)}-{max(alice.id, bob.id)}"
        with pytest.raises(ValidationFailed):
            service.open_direct(alice, alice)
        with pytest.raises(Forbidden):
            service.remove_member(alice, room, alice)  # a direct conversation cannot be left


def test_an_owner_who_leaves_hands_the_room_on(app, users):
    with app.app_context(), app.test_request_context("/"):
        alice, bob, carol = (load(users[n]) for n in ("alice", "bob", "carol"))
        room = service.create_private_room(alice, "Trio", ["bob", "carol"])
        db.session.commit()
        service.remove_member(alice, room, alice)
        db.session.commit()
        assert service.membership(room, alice) is None
        assert service.membership(room, bob).role == "owner"
        assert service.can_manage_members(bob, room) and not service.can_manage_members(carol, room)


def test_a_nonce_is_per_author_and_cannot_move_rooms(app, users, make_room):
    make_room("general")
    make_room("deals")
    with app.app_context(), app.test_request_context("/"):
        alice, bob = load(users["alice"]), load(users["bob"])
        general, deals = service.get_room("general", alice), service.get_room("deals", alice)
        first = service.send_message(alice, general, "hi", nonce="abc")
        db.session.commit()
        assert service.send_message(alice, general, "hi", nonce="abc").id == first.id
        assert (
            service.send_message(bob, general, "hi", nonce="abc").id != first.id
        )  # another author
        db.session.commit()
        with pytest.raises(Conflict):
            service.send_message(alice, deals, "hi", nonce="abc")
        db.session.rollback()
        assert (
            db.session.scalar(select(ChatRoom.message_seq).where(ChatRoom.slug == "general")) == 2
        )


def test_the_sidebar_order(app, users, make_room):
    for slug in ("zebra", "apple"):
        make_room(slug)
    with app.app_context(), app.test_request_context("/"):
        alice, bob, carol = (load(users[n]) for n in ("alice", "bob", "carol"))
        older = service.open_direct(alice, bob)
        newer = service.open_direct(alice, carol)
        private = service.create_private_room(alice, "Plans", [])
        service.send_message(bob, older, "old")
        service.send_message(carol, newer, "new")
        db.session.commit()
        entries = service.rooms_for(alice)
        assert [e.room.slug for e in entries] == [
            "apple",
            "zebra",
            private.slug,
            newer.slug,
            older.slug,
        ]
        assert [e.name for e in entries[3:]] == ["carol", "bob"]
        assert [e.unread for e in entries[3:]] == [1, 1]


def test_a_missing_or_hidden_room_is_not_found(app, users):
    with app.app_context(), app.test_request_context("/"):
        alice, bob = load(users["alice"]), load(users["bob"])
        room = service.create_private_room(alice, "Mine", [])
        db.session.commit()
        for slug in ("nope", room.slug, "", None, 42, "x" * 65):
            with pytest.raises(NotFound):
                service.get_room(slug, viewer=bob if slug == room.slug else alice)
        with pytest.raises(NotFound):
            service.get_room(room.slug, viewer=None)


# --- concurrency ------------------------------------------------------------------------------------


def _run_in_threads(app, count: int, work) -> list[Exception]:
    barrier = threading.Barrier(count)
    errors: list[Exception] = []

    def run(index: int) -> None:
        with app.app_context(), app.test_request_context("/"):
            try:
                barrier.wait()
                work(index)
            except Exception as exc:  # noqa: BLE001 (reported by the test)
                errors.append(exc)
                db.session.rollback()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


def test_concurrent_senders_get_gap_free_seqs_in_id_order(app, make_user, make_room):
    """Each writer has its own connection and commits; the room row's lock orders them."""
    slug = make_room("general")
    writers = [make_user(f"writer{i}") for i in range(6)]
    per_writer = 8

    def work(index: int) -> None:
        for n in range(per_writer):
            user = db.session.get(User, writers[index].id)
            service.send_message(user, service.get_room(slug, viewer=user), f"{index}:{n}")
            db.session.commit()

    assert _run_in_threads(app, len(writers), work) == []
    total = len(writers) * per_writer
    with app.app_context():
        rows = db.session.execute(
            select(ChatMessage.id, ChatMessage.seq, ChatMessage.body).order_by(ChatMessage.id)
        ).all()
        room = db.session.scalar(select(ChatRoom).where(ChatRoom.slug == slug))
        assert [seq for _, seq, _ in rows] == list(range(1, total + 1))
        assert room.message_seq == total and room.last_message_id == rows[-1].id
        # Every writer's own messages are stored in the order it sent them.
        for index in range(len(writers)):
            mine = [body for _, _, body in rows if body.startswith(f"{index}:")]
            assert mine == [f"{index}:{n}" for n in range(per_writer)]


def test_both_members_opening_a_direct_room_at_once_get_one_room(app, users):
    alice, bob = users["alice"], users["bob"]
    slugs = []

    def work(index: int) -> None:
        me, other = (alice, bob) if index % 2 == 0 else (bob, alice)
        room = service.open_direct(db.session.get(User, me.id), db.session.get(User, other.id))
        db.session.commit()
        slugs.append(room.slug)

    assert _run_in_threads(app, 4, work) == []
    assert len(set(slugs)) == 1
    with app.app_context():
        (room,) = db.session.scalars(select(ChatRoom)).all()
        assert (
            len(db.session.scalars(select(ChatMember).where(ChatMember.room_id == room.id)).all())
            == 2
        )
