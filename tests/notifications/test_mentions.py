"""``@name`` links to the profile only when the member exists, and only members are told;
at most ``MENTIONS_MAX`` per post."""

from sqlalchemy import func, select

from forum import markup
from forum.accounts.models import User
from forum.board import service as board
from forum.board.models import Thread
from forum.extensions import db
from forum.notifications import service
from forum.notifications.models import Notification
from tests.conftest import app_context


def test_only_existing_members_are_linked_by_their_own_name(app, make_user):
    make_user("Bob_B")
    with app_context(app):
        rendered = markup.render("hi @bob_b and @nobody_here, mail me@bob_b.com")
    assert '<a href="/u/Bob_B" rel="nofollow ugc noopener">@bob_b</a>' in rendered.html
    assert "@nobody_here" in rendered.html and "/u/nobody_here" not in rendered.html
    assert rendered.html.count('href="/u/') == 1  # the e-mail address is no mention
    assert rendered.mentions == ["bob_b"]


def test_hostile_mentions_stay_text_and_look_up_a_bounded_list(app, make_user):
    make_user("bob")
    body = (
        " ".join(f"@ghost{i}" for i in range(5000)) + ' @bob `@bob` [x](/a "@bob") <b title="@bob">'
    )
    with app_context(app):
        rendered = markup.render(body)
    # @bob lies past the lookup's first MENTION_LOOKUP_MAX names: plain text, nobody told
    assert "/u/" not in rendered.html and rendered.mentions == []
    with app_context(app):
        rendered = markup.render(
            '@bob `@bob` [x](/a "@bob") <b title="@bob">@bob</b> <script>@bob</script>'
        )
    assert rendered.html.count('href="/u/bob"') == 2  # not in code, a link title, a script
    assert "<script" not in rendered.html


def test_a_post_tells_existing_members_only_and_at_most_the_cap(app, make_user, make_thread):
    opener = make_user("opener")
    names = [make_user(f"m{i:02d}").username for i in range(service.MENTIONS_MAX + 5)]
    thread_id = make_thread(opener, title="Roll call")
    body = " ".join(f"@{name}" for name in ["nobody1", *names, "nobody2"])
    with app_context(app), app.test_request_context("/"):
        board.reply(db.session.get(User, opener.id), db.session.get(Thread, thread_id), body)
        db.session.commit()
        told = db.session.scalar(
            select(func.count()).select_from(Notification).where(Notification.kind == "mention")
        )
    assert told == service.MENTIONS_MAX
