"""chat.service.describe_messages: what other features' reports may call a message (chat's privacy rule)."""

from forum.accounts.models import User
from forum.chat import service
from forum.extensions import db
from tests.conftest import app_context


def _send(app, author, slug: str, body: str) -> int:
    with app_context(app), app.test_request_context("/"):
        room = service.find_room(slug)
        message = service.send_message(db.session.get(User, author.id), room, body)
        db.session.commit()
        return message.id


def test_a_public_message_is_named_by_room_and_its_start_without_embeds(app, make_user, make_room):
    author = make_user("talker")
    slug = make_room("deals")
    long_id = _send(app, author, slug, "Look at this kettle [[product:3]] " + "really " * 20)
    only_offer = _send(app, author, slug, "[[product:3]]")
    with app_context(app):
        labels = service.describe_messages([long_id, only_offer, 999_999])
    assert labels[long_id].startswith("#deals: Look at this kettle really")
    # Cut at a word (markup.excerpt): at most 60 characters of text, then the ellipsis.
    text = labels[long_id].removeprefix("#deals: ")
    assert text.endswith(" really…") and len(text) <= 61
    assert labels[only_offer] == "#deals: a shared offer"
    assert 999_999 not in labels  # a missing message is left out


def test_a_private_message_stays_private_except_to_its_members(app, make_user, make_private_room):
    owner, member, outsider = make_user("owner"), make_user("member"), make_user("outsider")
    slug = make_private_room(owner, [member])
    message_id = _send(app, owner, slug, "Our secret deal")
    with app_context(app):
        assert service.describe_messages([message_id]) == {
            message_id: "A message in a private chat"
        }
        as_outsider = service.describe_messages(
            [message_id], viewer=db.session.get(User, outsider.id)
        )
        as_member = service.describe_messages([message_id], viewer=db.session.get(User, member.id))
    assert as_outsider == {message_id: "A message in a private chat"}
    assert as_member == {message_id: f"#{slug}: Our secret deal"}
