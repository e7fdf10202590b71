"""SQL statements per chat send: the fan-out benchmark's server cost is mostly these.

One message from a member who has joined a public room, over the socket, as the chat
page sends it. The bound is today's count; a change that needs more must say why here.
The figures are printed by ``python -m tests.bench.bench_chat_fanout``.
"""

from sqlalchemy import select

from forum.extensions import db
from forum.search.models import SearchDocument
from tests.chat.test_sockets import join, send
from tests.conftest import app_context

# The sender (Flask-Login, per event), the room with the sender's membership, the seq,
# the message, the room's last message, the sender's read mark, the search document.
# Commits not counted.
SEND_STATEMENTS = 7


def test_one_chat_send_stays_within_its_statement_budget(
    app, make_room, make_user, client_for, chat_socket, count_queries
):
    slug = make_room("general")
    alice = make_user("alice")
    sock = chat_socket(client_for(alice))
    join(sock, slug)
    send(sock, slug, "the first one writes more")
    with count_queries() as statements:
        ack = send(sock, slug, "hello **world**")
    assert "id" in ack, ack
    counted = [s for s in statements if not s.startswith(("BEGIN", "COMMIT"))]
    assert len(counted) <= SEND_STATEMENTS, counted
    with app_context(app):  # still indexed: search finds the new message
        doc = db.session.scalar(
            select(SearchDocument).where(
                SearchDocument.source == "message", SearchDocument.source_id == ack["id"]
            )
        )
        assert doc is not None and "hello world" in doc.body
