"""HTML pages: deals, group-buy, team (share link), snap-up, and the merchant's pages."""

import re
from datetime import timedelta

from forum.clock import now
from tests.conftest import login

from .conftest import promo_counts


def local(delta: timedelta) -> str:
    return (now() + delta).strftime("%Y-%m-%dT%H:%M")


def group_buy_form(product: int, **changes: str) -> dict:
    """A valid new group-buy form for ``product``, with ``changes``."""
    return {
        "product_id": str(product),
        "group_price_cents": "59.00",
        "team_size": "2",
        "team_window_minutes": "60",
        "ends_at": local(timedelta(days=2)),
        **changes,
    }


def snap_form(product: int, **changes: str) -> dict:
    """A valid new snap-up form for ``product``, live since a minute ago."""
    return {
        "product_id": str(product),
        "price_cents": "49.00",
        "stock": "10",
        "per_user_limit": "1",
        "starts_at": local(timedelta(minutes=-1)),
        "ends_at": local(timedelta(hours=2)),
        **changes,
    }


def test_public_pages(app, client, product, make_group_buy, make_snap, members):
    group_buy = make_group_buy(product)
    snap = make_snap(product)
    ((leader, leader_h),) = members(1)
    team_id = client.post(f"/api/v1/group-buys/{group_buy['id']}/teams", headers=leader_h).json[
        "team_id"
    ]
    deals = client.get("/promotions/").get_data(as_text=True)
    assert "Trail shoes" in deals and "1 forming" in deals
    assert "Start a team" in client.get(f"/promotions/group-buys/{group_buy['id']}").get_data(
        as_text=True
    )
    team = client.get(f"/promotions/teams/{team_id}").get_data(as_text=True)
    assert "member000's team" in team and "Log in to join" in team and "1</b> of 3" in team
    assert "Snap it" in client.get(f"/promotions/snaps/{snap['id']}").get_data(as_text=True)
    for path in ("/promotions/teams/999", "/promotions/snaps/999", "/promotions/group-buys/999"):
        assert client.get(path).status_code == 404


def test_join_and_buy_from_the_pages_without_javascript(
    app, product, make_group_buy, make_snap, members
):
    group_buy = make_group_buy(product, team_size=2)
    snap = make_snap(product)
    (leader, _), (joiner, _) = members(2)
    first = app.test_client()
    login(first, leader)
    started = first.post(f"/promotions/group-buys/{group_buy['id']}/teams")
    assert started.status_code == 302 and "/promotions/teams/" in started.headers["Location"]
    team_url = started.headers["Location"]
    second = app.test_client()
    login(second, joiner)
    assert "Join this team" in second.get(team_url).get_data(as_text=True)
    joined = second.post(team_url + "/join", follow_redirects=True)
    assert "This team is complete" in joined.get_data(as_text=True)
    again = second.post(team_url + "/join", follow_redirects=True)
    assert "You are already in this team" in again.get_data(as_text=True)

    bought = second.post(f"/promotions/snaps/{snap['id']}/buy", data={"quantity": "1"})
    assert bought.status_code == 302 and "/shop/orders/" in bought.headers["Location"]
    before = promo_counts(app)
    refused = second.post(
        f"/promotions/snaps/{snap['id']}/buy", data={"quantity": "5"}, follow_redirects=True
    )
    assert "at most 2" in refused.get_data(as_text=True)
    assert promo_counts(app) == before


def test_merchant_creates_watches_and_ends_promotions_from_the_pages(
    app, client, shop, product, members
):
    merchant = app.test_client()
    login(merchant, shop.user)
    assert merchant.get("/promotions/merchant").status_code == 200
    assert "Trail shoes (50 in stock)" in merchant.get(
        "/promotions/merchant/group-buys/new"
    ).get_data(as_text=True)

    before = promo_counts(app)
    bad = merchant.post(
        "/promotions/merchant/group-buys/new",
        data=group_buy_form(product, group_price_cents="95.00", team_size="12"),
    )
    assert bad.status_code == 422
    page = bad.get_data(as_text=True)
    assert "below the product" in page and "Teams have 2 to 10 members" in page
    assert promo_counts(app) == before

    made = merchant.post(
        "/promotions/merchant/group-buys/new",
        data=group_buy_form(product, auto_complete="y"),
    )
    assert made.status_code == 302
    watch_url = made.headers["Location"]
    group_buy_id = int(watch_url.rstrip("/").rsplit("/", 1)[1])
    ((member, member_h),) = members(1)
    client.post(f"/api/v1/group-buys/{group_buy_id}/teams", headers=member_h)
    watched = merchant.get(watch_url).get_data(as_text=True)
    assert 'data-count="forming">1<' in watched and "Forming" in watched

    snap = merchant.post(
        "/promotions/merchant/snaps/new",
        data=snap_form(product),
    )
    assert snap.status_code == 302
    snap_page = merchant.get(snap.headers["Location"]).get_data(as_text=True)
    assert "data-watch-left>10<" in snap_page and "Live" in snap_page

    # Another merchant and members cannot see or end them.
    rival_shop = members(1, prefix="notmerchant")[0][0]
    outsider = app.test_client()
    login(outsider, rival_shop)
    assert outsider.get(watch_url).status_code == 403
    assert outsider.get("/promotions/merchant").status_code == 403

    ended = merchant.post(f"{watch_url}/end", follow_redirects=True)
    assert "has ended" in ended.get_data(as_text=True)
    assert client.get(f"/api/v1/group-buys/{group_buy_id}").json["state"] == "ended"
    ended_snap = merchant.post(f"{snap.headers['Location']}/end", follow_redirects=True)
    assert "The snap-up has ended" in ended_snap.get_data(as_text=True)


def test_another_merchant_gets_404_on_watch_pages(app, product, make_group_buy, make_shop):
    group_buy = make_group_buy(product)
    rival = make_shop("rival")
    other = app.test_client()
    login(other, rival.user)
    assert other.get(f"/promotions/merchant/group-buys/{group_buy['id']}").status_code == 404
    assert other.post(f"/promotions/merchant/group-buys/{group_buy['id']}/end").status_code == 404


def test_new_promotion_pages_prefill_times_and_say_how_to_embed(app, shop, product):
    merchant = app.test_client()
    login(merchant, shop.user)
    group_page = merchant.get("/promotions/merchant/group-buys/new").get_data(as_text=True)
    assert re.search(r'name="ends_at"[^>]*value="\d{4}-\d\d-\d\dT\d\d:\d\d"', group_page)
    snap_page = merchant.get("/promotions/merchant/snaps/new").get_data(as_text=True)
    for name in ("starts_at", "ends_at"):
        assert re.search(rf'name="{name}"[^>]*value="\d{{4}}-\d\d-\d\dT\d\d:\d\d"', snap_page)

    made = merchant.post(
        "/promotions/merchant/group-buys/new",
        data=group_buy_form(product),
        follow_redirects=True,
    )
    assert "Group-buy created. Embed it anywhere with [[groupbuy:" in made.get_data(as_text=True)
    made = merchant.post(
        "/promotions/merchant/snaps/new",
        data=snap_form(product),
        follow_redirects=True,
    )
    assert "Snap-up created. Embed it anywhere with [[snap:" in made.get_data(as_text=True)
