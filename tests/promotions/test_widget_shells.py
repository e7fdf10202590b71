"""Widget shells (forum.widget_shells): a widget's HTML is rendered once per state and
reused, yet every reader sees the state of the moment, and nobody sees another member's."""

import re
from datetime import timedelta

import time_machine

from forum import widget_shells as shells
from forum.clock import now
from tests.conftest import login

from .games_helpers import make_auction, make_game


def widget(page: str, attribute: str) -> str:
    start = page.index(attribute)
    return page[
        page.rindex("<div", 0, start) : page.index(
            'data-promo-note role="status" hidden></p>', start
        )
    ]


def test_a_shared_shell_never_carries_a_members_own_team(
    app, client, product, make_group_buy, make_user, make_thread, members
):
    group_buy = make_group_buy(product)
    (leader, leader_h), (other, _) = members(2)
    thread_id = make_thread(
        make_user("fan"), title="Team up?", body=f"[[groupbuy:{group_buy['id']}]]"
    )
    assert "Your team" not in client.get(f"/t/{thread_id}").get_data(as_text=True)
    client.post(f"/api/v1/group-buys/{group_buy['id']}/teams", headers=leader_h)
    readers = {}
    for name, user in (("leader", leader), ("other", other), ("anonymous", None)):
        readers[name] = app.test_client()
        if user is not None:
            login(readers[name], user)
    for _ in range(2):  # the second round is served from the shells the first one built
        for name, reader in readers.items():
            page = reader.get(f"/t/{thread_id}").get_data(as_text=True)
            assert ("Your team" in page) is (name == "leader"), name
            assert "member000's team" in page or name == "leader"
            assert "\x00" not in page


def test_every_reader_sees_the_auction_of_the_moment(
    app, client, shop, product, make_user, make_thread, members
):
    auction = make_auction(client, shop, product, units=2, starts_at=now().isoformat())
    game = make_game(client, shop, product, points_per_guess=0)
    thread_id = make_thread(
        make_user("fan"),
        title="Deals",
        body=f"[[auction:{auction['id']}]]\n\n[[guess:{game['id']}]]",
    )
    first = client.get(f"/t/{thread_id}").get_data(as_text=True)
    card = widget(first, 'data-auction="')
    assert "data-units-left>2<" in card and "$50.00" in card and "No sale yet" in card
    assert re.search(r"Next drop in 0m [1-6]\ds|Next drop in 1m 0s", card)
    ((buyer, buyer_h),) = members(1)
    assert client.post(f"/api/v1/auctions/{auction['id']}/take", headers=buyer_h).status_code == 201
    later = client.get(f"/t/{thread_id}").get_data(as_text=True)
    card = widget(later, 'data-auction="')
    assert "data-units-left>1<" in card and "Last sale: $50.00" in card
    guessed = client.post(
        f"/api/v1/guess-games/{game['id']}/guesses", json={"amount_cents": 123}, headers=buyer_h
    )
    assert guessed.status_code == 201
    with time_machine.travel(now() + timedelta(seconds=61), tick=False):
        page = client.get(f"/t/{thread_id}").get_data(as_text=True)
        card = widget(page, 'data-auction="')
        assert "$45.00" in card and "data-units-left>1<" in card  # the price fell one drop
        assert f'data-server-now="{now().isoformat()}"' in card
        guess_card = widget(page, 'data-guess="')
        assert "data-guesses-count>1<" in guess_card and "1.23" not in guess_card


def test_slots_cannot_be_forged_from_stored_text(app):
    marker = str(shells.slot("now"))
    with app.test_request_context("/"):
        html = shells.render(
            ("test", marker),
            lambda: f"<p>{marker}</p><p>\x00fake:now\x00</p>",
            {"now": "<b>"},
        )
    assert str(html) == "<p>&lt;b&gt;</p><p>\x00fake:now\x00</p>"
    shells.clear()
