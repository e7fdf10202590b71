"""Socket.IO payloads nested past reason get an invalid_json error ack, never a RecursionError."""

from forum.chat.models import ChatMessage
from forum.extensions import socketio
from tests.chat.conftest import NS, count_rows


def raw_emit(sock, text: str, ack_id: int = 7):
    """Hand the server an encoded EVENT packet (the test client cannot encode such JSON)."""
    socketio.server._handle_eio_message(sock.eio_sid, f"2{NS},{ack_id}{text}")
    ack, sock.acks = sock.acks, None
    return ack["args"][0] if ack else None


def test_a_send_nested_a_thousand_deep_is_answered_invalid_json(
    app, make_room, make_user, client_for, chat_socket
):
    room = make_room("general")
    sock = chat_socket(client_for(make_user("deep")))
    for payload in ("[" * 1000 + "]" * 1000, '{"a":' * 1000 + "1" + "}" * 1000):
        ack = raw_emit(sock, f'["send",{payload}]')
        assert ack["error"]["code"] == "invalid_json", ack
    assert count_rows(app, ChatMessage) == 0
    # The socket still works afterwards.
    assert sock.emit("send", {"room": room, "body": "hi"}, namespace=NS, callback=True)["id"]
