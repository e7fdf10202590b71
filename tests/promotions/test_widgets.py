"""Widgets in posts and chat, their live rooms on /live, and the server clock."""

from datetime import datetime

from forum.embeds import EmbedContext
from forum.extensions import db, socketio
from forum.promotions import service
from tests.conftest import app_context, login
from tests.fixtures.shop import ADDRESS

from .conftest import later


def received(reader, name):
    return [e["args"][0] for e in reader.get_received("/live") if e["name"] == name]


def watch(app, room):
    reader = socketio.test_client(app, namespace="/live")
    ack = reader.emit("watch", {"room": room}, namespace="/live", callback=True)
    assert ack == {"ok": True, "room": room}, ack
    return reader


def test_widgets_render_inside_a_post(
    app, client, product, make_group_buy, make_snap, make_user, make_thread, members
):
    group_buy = make_group_buy(product)
    snap = make_snap(product)
    (leader, leader_h), (reader_user, _) = members(2)
    client.post(f"/api/v1/group-buys/{group_buy['id']}/teams", headers=leader_h)
    thread_id = make_thread(
        make_user("fan"),
        title="Team up?",
        body=f"Join me:\n\n[[groupbuy:{group_buy['id']}]]\n\nand [[snap:{snap['id']}]] "
        "and [[snap:999999]]",
    )
    page = client.get(f"/t/{thread_id}").get_data(as_text=True)
    assert f'data-live-room="offer:groupbuy:{group_buy["id"]}"' in page
    assert f'data-live-room="offer:snap:{snap["id"]}"' in page
    assert "$59.00" in page and "$49.00" in page and "$89.00" in page
    assert "member000's team" in page and 'data-join-team="' in page
    assert 'data-server-now="' in page and "Snap it" in page
    assert "widget-unavailable" in page  # the unknown snap-up

    # The thread's API lists the embeds with their links.
    post = client.get(f"/api/v1/threads/{thread_id}").json["posts"]["items"][0]
    assert {(e["kind"], e["id"]) for e in post["embeds"]} >= {
        ("groupbuy", group_buy["id"]),
        ("snap", snap["id"]),
    }

    # The leader sees their own team in the widget, with an invite link.
    viewer = app.test_client()
    login(viewer, leader)
    mine = viewer.get(f"/t/{thread_id}").get_data(as_text=True)
    assert "Your team" in mine and "data-share-team" in mine


def test_chat_widgets_say_nothing_about_the_viewer(app, product, make_group_buy, members):
    group_buy = make_group_buy(product)
    (leader, leader_h), _ = members(2)
    app.test_client().post(f"/api/v1/group-buys/{group_buy['id']}/teams", headers=leader_h)
    with app_context(app), app.test_request_context("/"):
        from flask_login import login_user

        from forum.accounts.models import User

        login_user(db.session.get(User, leader.id))
        item = service.get_group_buy(group_buy["id"])
        in_chat = str(service.render_group_buy(item, EmbedContext("message", 5, leader.id), "/x"))
        in_post = str(service.render_group_buy(item, EmbedContext("post", 5, leader.id), "/x"))
    assert 'data-personal="0"' in in_chat and "Your team" not in in_chat
    assert 'data-personal="1"' in in_post and "Your team" in in_post


def test_the_widget_body_is_rendered_for_the_viewer(app, client, product, make_group_buy, members):
    group_buy = make_group_buy(product)
    (leader, leader_h), _ = members(2)
    client.post(f"/api/v1/group-buys/{group_buy['id']}/teams", headers=leader_h)
    url = f"/promotions/group-buys/{group_buy['id']}/widget"
    anonymous = client.get(url)
    assert anonymous.status_code == 200 and "Your team" not in anonymous.get_data(as_text=True)
    assert anonymous.headers["Cache-Control"] == "no-store"
    viewer = app.test_client()
    login(viewer, leader)
    assert "Your team" in viewer.get(url).get_data(as_text=True)
    assert client.get("/promotions/group-buys/999999/widget").status_code == 404


def test_snap_watchers_see_stock_move_and_refusals_announce_nothing(
    app, client, product, make_snap, members
):
    snap = make_snap(product, stock=2, per_user_limit=2)
    (a, a_h), (b, b_h) = members(2)
    reader = watch(app, f"offer:snap:{snap['id']}")
    client.post(f"/api/v1/snaps/{snap['id']}/buy", json={"quantity": 2}, headers=a_h)
    pushed = received(reader, "snap_state")
    assert [(p["stock_left"], p["state"]) for p in pushed] == [(0, "sold_out")]
    assert (
        client.post(
            f"/api/v1/snaps/{snap['id']}/buy", json={"quantity": 1}, headers=b_h
        ).status_code
        == 409
    )
    assert received(reader, "snap_state") == []
    reader.disconnect(namespace="/live")


def test_team_watchers_see_the_team_succeed_live(app, client, product, make_group_buy, members):
    group_buy = make_group_buy(product, team_size=2)
    (a, a_h), (b, b_h) = members(2)
    campaign = watch(app, f"offer:groupbuy:{group_buy['id']}")
    team_id = client.post(f"/api/v1/group-buys/{group_buy['id']}/teams", headers=a_h).json[
        "team_id"
    ]
    started = received(campaign, "groupbuy_state")
    assert [(p["team"]["id"], p["team"]["status"]) for p in started] == [(team_id, "forming")]
    team = watch(app, f"offer:team:{team_id}")
    client.post(f"/api/v1/teams/{team_id}/join", headers=b_h)
    assert [(p["status"], p["members"]) for p in received(team, "team_state")] == [("succeeded", 2)]
    assert received(campaign, "groupbuy_state")[-1]["team"]["status"] == "succeeded"
    # The members are told in their own rooms (notifications).
    campaign.disconnect(namespace="/live")
    team.disconnect(namespace="/live")


def test_only_existing_offers_can_be_watched(app):
    reader = socketio.test_client(app, namespace="/live")
    for room in ("offer:snap:1", "offer:groupbuy:1", "offer:team:1", "offer:team:x"):
        ack = reader.emit("watch", {"room": room}, namespace="/live", callback=True)
        assert ack["error"]["code"] in ("forbidden", "invalid"), room
    reader.disconnect(namespace="/live")


def test_the_server_clock(client):
    data = client.get("/api/v1/time").json
    assert datetime.fromisoformat(data["now"]).tzinfo is not None


def test_snap_widget_counts_down_from_the_server_clock(app, product, make_snap):
    snap = make_snap(product, starts_at=later(hours=1), ends_at=later(hours=2))
    with app_context(app), app.test_request_context("/"):
        item = service.get_snap(snap["id"])
        html = str(service.render_snap(item, EmbedContext("post", 1, 1), "/go"))
    assert 'data-state="upcoming"' in html and "Starts in" in html
    assert f'data-starts-at="{item.starts_at.isoformat()}"' in html
    assert 'aria-disabled="true"' in html and "Starts soon" in html


def test_offers_on_a_product_moderation_hid_show_as_unavailable(
    app, client, product, make_group_buy, make_snap, make_user, make_thread, token_for
):
    group_buy, snap = make_group_buy(product), make_snap(product)
    thread_id = make_thread(
        make_user("fan"),
        title="Deals",
        body=f"[[groupbuy:{group_buy['id']}]] [[snap:{snap['id']}]]",
    )
    pages = (
        f"/t/{thread_id}",
        f"/promotions/snaps/{snap['id']}",
        f"/promotions/group-buys/{group_buy['id']}",
    )
    assert all("widget-unavailable" not in client.get(p).get_data(as_text=True) for p in pages)
    mod = token_for(make_user("mod", role="moderator"))
    flagged = client.post(
        "/api/v1/flags",
        json={"target": "product", "target_id": product, "reason": "other", "note": "fake"},
        headers=token_for(make_user("reader")),
    )
    assert flagged.status_code == 201, flagged.json
    item = client.get("/api/v1/moderation/queue", headers=mod).json["items"][0]
    decided = client.post(
        f"/api/v1/moderation/queue/{item['id']}/decide",
        json={"action": "agree", "reason": "Counterfeit"},
        headers=mod,
    )
    assert decided.status_code == 200
    for path in pages:
        page = client.get(path).get_data(as_text=True)
        assert "widget-unavailable" in page, path
        assert "Snap it" not in page and 'data-join-team="' not in page, path
    buyer = token_for(make_user("buyer"))
    bought = client.post(
        f"/api/v1/snaps/{snap['id']}/buy",
        json={"quantity": 1, "shipping_address": ADDRESS},
        headers=buyer,
    )
    # The shop's own refusal of a product no longer sold (nothing is held).
    assert bought.status_code == 422 and bought.json["error"]["code"] == "unknown_product"
