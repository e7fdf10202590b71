"""The live layer hears features through forum.signals, connected in each init_app."""

import pytest
from sqlalchemy import text

from forum import create_app, live, realtime, signals
from forum.extensions import db, socketio
from tests.conftest import app_context, base_config


@pytest.mark.parametrize(
    "kind, receiver",
    [
        ("thread", "forum.board:may_watch_thread"),
        ("event", "forum.events.sockets:may_watch_event"),
        ("offer", "forum.shop_embed.service.widgets:may_watch_offer"),
    ],
)
def test_each_room_kind_is_answered_by_its_own_feature(app, kind, receiver):
    module, _, name = receiver.partition(":")
    answers = [
        f"{r.__module__}:{r.__name__}" for r in signals.room_watch_allowed.receivers_for(kind)
    ]
    assert answers == [f"{module}:{name}"]


@pytest.mark.parametrize("kind", ["product", "groupbuy", "team", "snap"])
def test_each_offer_kind_has_one_answer(app, kind):
    assert len(list(signals.offer_watch_allowed.receivers_for(kind))) == 1


def test_building_many_apps_connects_each_receiver_once(app, database_uri):
    for _ in range(2):
        other = create_app(base_config(database_uri))
        with other.app_context():
            db.engine.dispose()
    assert len(list(signals.room_watch_allowed.receivers_for("thread"))) == 1
    assert len(list(signals.user_sessions_ended.receivers_for(None))) == 1


def test_a_kind_nobody_answers_is_refused(app):
    with app_context(app):
        assert live.may_watch(None, "nobody:1") is False
        assert live.may_watch(None, "thread:") is False
        assert live.may_watch(None, "offer:nobody:1") is False


def test_socket_actions_wait_for_the_commit_and_vanish_on_rollback(app, monkeypatch):
    ran = []
    monkeypatch.setattr(realtime, "_emit", ran.append)
    with app_context(app):
        db.session.execute(text("SELECT 1"))  # inside a transaction, as a service is
        realtime.leave_room(["sid-1"], "room:general", namespace="/chat")
        realtime.disconnect_sockets(["sid-2"], namespace="/chat")
        assert ran == []
        db.session.rollback()
        assert ran == []
        db.session.execute(text("SELECT 1"))
        realtime.leave_room(["sid-3"], "room:general", namespace="/chat")
        realtime.disconnect_user(7)
        db.session.commit()
    assert ran == [
        realtime.LeaveRoom(["sid-3"], "room:general", "/chat"),
        realtime.SessionsEnded(7),
    ]


def test_sessions_ended_is_sent_after_the_user_rooms_close(app, monkeypatch):
    heard = []

    def listener(sender, *, user_id):
        heard.append(user_id)

    signals.user_sessions_ended.connect(listener)
    try:
        with app_context(app):
            realtime.disconnect_user(42)
            assert heard == []
            db.session.commit()
    finally:
        signals.user_sessions_ended.disconnect(listener)
    assert heard == [42]


def test_a_token_socket_is_recognised_through_the_accounts_answer(app, member, token_for):
    token = token_for(member)["Authorization"].removeprefix("Bearer ")
    with app_context(app):
        user = signals.ask(signals.user_for_token, "bearer", token=token)
        assert user is not None and user.id == member.id
        assert signals.ask(signals.user_for_token, "bearer", token="nope") is None
    sock = socketio.test_client(app, namespace="/chat", auth={"token": token})
    assert sock.is_connected("/chat")


def test_templating_and_sockets_import_no_feature():
    import ast
    import pathlib

    from forum import FEATURES

    for path in ("forum/templating.py", "forum/sockets.py", "forum/realtime.py"):
        tree = ast.parse(pathlib.Path(path).read_text())
        imported = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level:
                imported.add((node.module or "").split(".")[0])
                imported.update(alias.name for alias in node.names if not node.module)
        assert not imported & set(FEATURES), path
