from forum.extensions import socketio


def test_anonymous_reader_watches_a_public_thread_and_sees_new_replies(app, make_user, make_thread):
    author = make_user("author")
    thread_id = make_thread(author)
    reader = socketio.test_client(app, namespace="/live")
    assert reader.is_connected("/live")
    ack = reader.emit("watch", {"room": f"thread:{thread_id}"}, namespace="/live", callback=True)
    assert ack == {"ok": True, "room": f"thread:{thread_id}"}

    client = app.test_client()
    client.post("/login", data={"username": "author", "password": author.password})
    assert client.post(f"/t/{thread_id}/reply", data={"body": "live!"}).status_code == 302
    events = [e for e in reader.get_received("/live") if e["name"] == "post_created"]
    assert len(events) == 1 and events[0]["args"][0]["thread_id"] == thread_id


def test_unknown_or_malformed_rooms_are_refused(app):
    reader = socketio.test_client(app, namespace="/live")
    assert (
        reader.emit("watch", {"room": "user:1"}, namespace="/live", callback=True)["error"]["code"]
        == "forbidden"
    )
    assert (
        reader.emit("watch", {"room": "thread:999"}, namespace="/live", callback=True)["error"][
            "code"
        ]
        == "forbidden"
    )
    assert (
        reader.emit("watch", "nonsense", namespace="/live", callback=True)["error"]["code"]
        == "invalid"
    )
