"""Every kind of audit entry links to its item and its people: each target type an
action records (the list below names the actions writing it) renders a link on
/mod/audit that a moderator can follow to the item, and both people link to their
admin pages."""

import re

from forum.accounts.models import User
from forum.board.models import Category
from forum.extensions import db
from forum.moderation import service as moderation
from forum.moderation.models import AuditEntry
from forum.reviews import service as reviews
from forum.shop_embed.models import Order
from tests.conftest import app_context, login
from tests.reviews.conftest import buy, write  # noqa: F401 (buy is a fixture)

from .helpers import first_post_id

#: target type -> the audit actions that record it (forum/*: ``moderation.record``).
ACTIONS = {
    "post": "post.hide post.restore post.delete post.hold post.auto_hide queue.agree",
    "thread": "thread.lock thread.unlock thread.pin thread.unpin thread.move",
    "user": "user.role user.silence user.unsilence user.suspend user.unsuspend "
    "user.trust_level chat.mute chat.unmute queue.agree",
    "message": "message.auto_hide message.restore queue.agree",
    "chat_message": "chat.message.delete",
    "review": "review.hide review.restore review.delete queue.agree",
    "product": "product.auto_hide product.restore queue.agree",
    "report": "report.approve report.reject report.remove",
    "event": "event.cancel event.remove_participant",
    "settings": "settings.update",
    "site": "trust.rules",
}


def _targets(app, client, make_user, make_thread, shop, make_product, buy, token_for, mod):  # noqa: F811
    author = make_user("author")
    thread_id = make_thread(author)
    boss_ref = make_user("boss", role="admin")
    admin_h = token_for(boss_ref)
    client.post("/api/v1/chat/rooms", json={"slug": "lobby", "name": "Lobby"}, headers=admin_h)
    message_id = client.post(
        "/api/v1/chat/rooms/lobby/messages", json={"body": "hello"}, headers=token_for(author)
    ).get_json()["id"]
    product_id = make_product(shop, name="Kettle")
    order_id = buy(author, product_id)
    review_id = write(app, author, product_id)
    event = client.post(
        "/api/v1/events",
        json={
            "title": "Meetup",
            "description": "Coffee",
            "starts_at": "2030-01-01T18:00:00+00:00",
            "ends_at": "2030-01-01T20:00:00+00:00",
            "location": "Cafe",
            "capacity": 5,
        },
        headers=token_for(author),
    )
    assert event.status_code == 201, event.get_json()
    with app_context(app), app.test_request_context("/"):
        boss = db.session.scalar(db.select(User).where(User.username == "boss"))
        from forum.board import service as board

        category = board.create_category(boss, "experiences", "Experiences", "Reports.")
        board.set_experience_reports(boss, category, True)
        order = db.session.get(Order, order_id)
        report = reviews.create_report(
            db.session.get(User, author.id),
            db.session.get(Category, category.id),
            order_item_id=order.items[0].id,
            title="A month with the kettle",
            body="It boils water, reliably, every morning.",
        )
        db.session.commit()
        report_id = report.id
    ids = {
        "post": first_post_id(app, thread_id),
        "thread": thread_id,
        "user": author.id,
        "message": message_id,
        "chat_message": message_id,
        "review": review_id,
        "product": product_id,
        "report": report_id,
        "event": event.get_json()["id"],
        "settings": 0,
        "site": 0,
    }
    return author, boss_ref, ids


def test_every_audit_entry_links_its_item_and_people(
    app,
    client,
    make_user,
    make_thread,
    shop,
    make_product,
    buy,  # noqa: F811
    token_for,
):
    mod = make_user("mod", role="moderator")
    author, boss, ids = _targets(
        app, client, make_user, make_thread, shop, make_product, buy, token_for, mod
    )
    with app_context(app):
        actor = db.session.get(User, mod.id)
        for target_type, actions in ACTIONS.items():
            for action in actions.split():
                moderation.record(
                    actor,
                    action,
                    target_type,
                    ids[target_type],
                    reason=f"because of {action}",
                    subject_id=author.id,
                )
        db.session.commit()
        entries = db.session.scalars(
            db.select(AuditEntry).where(AuditEntry.actor_id == mod.id)
        ).all()
        entries = [(e.id, e.action, e.target_type) for e in entries]
    page, admin_page = app.test_client(), app.test_client()
    login(page, mod)
    login(admin_page, boss)
    html = page.get("/mod/audit").get_data(as_text=True)
    followed: dict[str, int] = {}
    for entry_id, action, target_type in entries:
        row = html[html.index(f'data-audit-entry="{entry_id}"') :].split("</tr>")[0]
        assert "/admin/users/mod" in row and "/admin/users/author" in row, row
        assert f"because of {action}" in row
        item_cell = row.split("</code>")[1]
        href = re.search(r'href="([^"]+)"', item_cell)
        assert href, (action, row)
        url = href.group(1).replace("&amp;", "&")
        if url not in followed:  # the site's settings and rules are the admins' pages
            viewer = admin_page if target_type in ("settings", "site") else page
            followed[url] = viewer.get(url, follow_redirects=True).status_code
        assert followed[url] == 200, (action, target_type, url)
