"""Kept widget states (promotions.service.widget_state): a page's auction, game and group-buy
widgets cost one small statement once kept, and still show the state of the moment
after every kind of change: a take, a lapsed payment, a price drop, a join, a guess, a close
and an edited product."""

from contextlib import contextmanager
from datetime import timedelta

import time_machine
from sqlalchemy import event

from forum.extensions import db
from tests.shop_embed.conftest import ADDRESS

from .games_helpers import at, make_auction, make_game
from .test_ladders import make_ladder
from .test_widget_shells import widget


@contextmanager
def statements(app):
    """The SQL statements run inside the block."""
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def promo(seen: list[str]) -> list[str]:
    return [s for s in seen if "promo_" in s]


def groupbuy_card(page: str) -> str:
    start = page.index('data-groupbuy="')
    return page[page.rindex("<div", 0, start) : page.index("to fill a team", start)]


def test_kept_widgets_show_the_state_of_the_moment_after_every_change(
    app, client, shop, product, members, make_thread, make_user
):
    # 5000 -> 3800 by 100 every 5 minutes: the 10-minute payment window ends while it runs.
    auction = make_auction(client, shop, product, units=2, drop_cents=100, drop_every_seconds=300)
    game = make_game(client, shop, product, points_per_guess=0)
    ladder = make_ladder(client, shop, product)
    thread_id = make_thread(
        make_user("fan"),
        title="Deals",
        body=f"[[auction:{auction['id']}]]\n\n[[guess:{game['id']}]]\n\n"
        f"[[groupbuy:{ladder['id']}]]",
    )
    (a, a_h), (b, b_h), (c, c_h) = members(3)
    start = at(auction["starts_at"])
    url = f"/t/{thread_id}"

    def page(expect_kept: bool = False) -> str:
        with statements(app) as seen:
            html = client.get(url).get_data(as_text=True)
        if expect_kept:  # one state statement for the three kinds, no ORM load of any widget
            assert len(promo(seen)) == 1, promo(seen)
        assert "\x00" not in html
        return html

    with time_machine.travel(start + timedelta(seconds=10), tick=False):
        page()
        card = widget(page(expect_kept=True), 'data-auction="')
        assert "data-units-left>2<" in card and "$50.00" in card and "No sale yet" in card
        assert "Next drop in 4m 50s" in card and "/go/" in card  # tracked link filled in
        assert client.post(f"/api/v1/auctions/{auction['id']}/take", headers=a_h).status_code == 201
        card = widget(page(), 'data-auction="')
        assert "data-units-left>1<" in card and "Last sale: $50.00" in card
        assert "data-units-left>1<" in widget(page(expect_kept=True), 'data-auction="')

        guessed = client.post(
            f"/api/v1/guess-games/{game['id']}/guesses", json={"amount_cents": 123}, headers=b_h
        )
        assert guessed.status_code == 201
        card = widget(page(), 'data-guess="')
        assert "data-guesses-count>1<" in card and "1.23" not in card

        team = client.post(
            f"/api/v1/group-buys/{ladder['id']}/teams",
            json={"shipping_address": ADDRESS},
            headers=b_h,
        ).json
        card = groupbuy_card(page())
        assert f"{b.username}'s team" in card and "4 more" in card
        joined = client.post(
            f"/api/v1/teams/{team['team_id']}/join",
            json={"shipping_address": ADDRESS},
            headers=c_h,
        )
        assert joined.status_code == 200
        card = groupbuy_card(page())
        assert f"{b.username}'s team" in card and "3 more" in card

        renamed = client.patch(
            f"/api/v1/products/{product}", json={"name": "Road shoes"}, headers=shop.headers
        )
        assert renamed.status_code == 200, renamed.json
        html = page()
        assert html.count("Road shoes") == 3 and "Trail shoes" not in html
        page(expect_kept=True)

    with time_machine.travel(start + timedelta(minutes=5, seconds=1), tick=False):
        # No row changed: the clock alone moved the price one drop.
        for kept in (False, True):
            card = widget(page(expect_kept=kept), 'data-auction="')
            assert "$49.00" in card and "Next drop in 4m 59s" in card

    with time_machine.travel(start + timedelta(minutes=10, seconds=11), tick=False):
        # a's payment window has passed (before any job): the unit is back.
        card = widget(page(), 'data-auction="')
        assert "data-units-left>2<" in card and "$48.00" in card
        closed = client.post(f"/api/v1/guess-games/{game['id']}/close", headers=shop.headers)
        assert closed.status_code == 200
        card = widget(page(), 'data-guess="')
        assert "Closes in" not in card and "Winner: <strong>@" in card and "$1.23" in card


def test_a_clock_boundary_is_not_served_from_a_state_kept_before_it(
    app, client, shop, product, make_thread, make_user
):
    auction = make_auction(client, shop, product, units=1)  # starts in a minute
    thread_id = make_thread(make_user("fan"), title="Soon", body=f"[[auction:{auction['id']}]]")
    start = at(auction["starts_at"])
    with time_machine.travel(start - timedelta(seconds=5), tick=False):
        for _ in range(2):
            card = widget(client.get(f"/t/{thread_id}").get_data(as_text=True), 'data-auction="')
            assert "Starts in 0m 5s" in card and "auction-upcoming" in card
    with time_machine.travel(start + timedelta(seconds=1), tick=False):
        card = widget(client.get(f"/t/{thread_id}").get_data(as_text=True), 'data-auction="')
        assert "auction-live" in card and "Next drop in 0m 59s" in card


def test_a_page_of_n_widgets_costs_the_same_statements_as_a_page_of_three(
    app, client, shop, product, make_thread, make_user, make_product
):
    def thread(copies: int) -> int:
        refs = []
        for n in range(copies):
            item = make_product(shop, f"Item {copies}-{n}", price_cents=8900, stock=50)
            refs += [
                f"[[auction:{make_auction(client, shop, item)['id']}]]",
                f"[[guess:{make_game(client, shop, item)['id']}]]",
                f"[[groupbuy:{make_ladder(client, shop, item)['id']}]]",
            ]
        return make_thread(make_user(f"fan{copies}"), title="Deals", body="\n\n".join(refs))

    counts = {}
    for copies in (1, 4):
        thread_id = thread(copies)
        client.get(f"/t/{thread_id}")  # builds and keeps the states
        with statements(app) as seen:
            page = client.get(f"/t/{thread_id}").get_data(as_text=True)
        assert page.count('data-auction="') == copies and page.count('data-groupbuy="') == copies
        counts[copies] = (len(seen), len(promo(seen)))
        # Kept or not, each kind is a bounded number of statements, never one per widget.
    assert counts[1] == counts[4], counts
    assert counts[4][1] == 1


def test_auction_and_game_on_a_product_moderation_hid_show_as_unavailable(
    app, client, shop, product, make_thread, make_user
):
    from forum.shop_embed.service.products import set_hidden_by_moderation
    from tests.conftest import app_context

    auction = make_auction(client, shop, product)
    game = make_game(client, shop, product, points_per_guess=0)
    thread_id = make_thread(
        make_user("fan"), title="Deals", body=f"[[auction:{auction['id']}]] [[guess:{game['id']}]]"
    )
    with time_machine.travel(at(auction["starts_at"]) + timedelta(seconds=10), tick=False):
        before = client.get(f"/t/{thread_id}").get_data(as_text=True)
        assert 'data-auction="' in before and "widget-unavailable" not in before
        client.get(f"/t/{thread_id}")  # the states are kept now: hiding must still show
        with app_context(app):
            assert set_hidden_by_moderation(product, True, "Counterfeit")
            db.session.commit()
        after = client.get(f"/t/{thread_id}").get_data(as_text=True)
    assert after.count("widget-unavailable") == 2
    assert 'data-auction="' not in after and "data-guess" not in after
