"""Reports: the funnel per post, author, offer, room and day; totals equal the ledger; API, CSV, pages."""

import csv
import io
from datetime import timedelta

import pytest

from forum.attribution import service
from forum.attribution.models import Click, Conversion
from forum.extensions import db
from tests.attribution.conftest import BROWSER, START, click, facts, set_rates, tracked_href
from tests.conftest import login


@pytest.fixture
def month(app, make_user, offers, post_with_offer, clock, token_for):
    """Two authors, two offers, a few buyers; orders, a refund, an action and a direct order."""
    clock.at(START)
    merchant = make_user("shopkeeper", role="merchant")
    alice, bob = make_user("alice"), make_user("bob")
    buyers = [make_user(f"buyer{n}") for n in range(3)]
    set_rates(app, merchant, cps_rate_bp=1000, model="linear", signup=0, event_signup=200)
    kettle, toaster = offers.add(merchant, "Kettle"), offers.add(merchant, "Toaster")
    post_a, post_b = post_with_offer(alice, kettle, "A"), post_with_offer(bob, toaster, "B")
    href_a, href_b = tracked_href(app, post_a, kettle), tracked_href(app, post_b, toaster)
    browsers = []
    for buyer in buyers:
        browser = app.test_client()
        login(browser, buyer)
        browsers.append(browser)
    # Day 0: everyone sees both threads; buyer0 clicks A, buyer1 clicks A and B.
    for browser in browsers:
        browser.get("/t/1", headers=BROWSER)
        browser.get("/t/2", headers=BROWSER)
    click(browsers[0], href_a)
    click(browsers[1], href_a)
    click(browsers[1], href_b)
    clock.at(START + timedelta(days=1))
    with app.app_context():
        service.record_order(
            facts(1, buyers[0], merchant, total=5_000, paid_at=START + timedelta(days=1))
        )
        service.record_order(
            facts(2, buyers[1], merchant, total=3_001, paid_at=START + timedelta(days=1))
        )
        service.record_order(
            facts(3, buyers[2], merchant, total=7_000, paid_at=START + timedelta(days=1))
        )  # direct
        service.record_action(
            "event_signup", user_id=buyers[0].id, merchant_id=merchant.id, key="s1"
        )
        db.session.commit()
        clock.at(START + timedelta(days=2))
        service.on_order_status(
            facts(
                1,
                buyers[0],
                merchant,
                status="refunded",
                total=5_000,
                paid_at=START + timedelta(days=1),
                refunded_at=START + timedelta(days=2),
            )
        )
        db.session.commit()
    return {
        "merchant": merchant,
        "alice": alice,
        "bob": bob,
        "post_a": post_a,
        "post_b": post_b,
        "kettle": kettle,
        "toaster": toaster,
        "headers": token_for(merchant),
    }


def get_report(client, headers, group_by, **params):
    response = client.get(
        "/api/v1/merchant/attribution",
        query_string={"group_by": group_by, **params},
        headers=headers,
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def rows_by_key(report):
    return {row["key"]: row for row in report["items"]}


def test_report_by_post(app, client, month):
    report = get_report(client, month["headers"], "post")
    rows = rows_by_key(report)
    a, b = rows[f"post:{month['post_a']}"], rows[f"post:{month['post_b']}"]
    # Actions: the event sign-up and both first purchases with this merchant (buyer1's split linear).
    assert (a["impressions"], a["clicks"], a["orders"], a["actions"]) == (3, 2, 2, 3)
    assert (b["impressions"], b["clicks"], b["orders"], b["actions"]) == (3, 1, 1, 1)
    # Order 1 (50.00, refunded) all to A; order 2 (30.01) split A/B linear; commission 10% (3.00).
    assert a["revenue_cents"] == 5_000 + 1_501 and a["refunded_cents"] == 5_000
    assert b["revenue_cents"] == 1_500
    assert (
        a["commission_cents"] == 0 + 150 + 200
    )  # refunded order reversed; half of 3.00; the action
    assert b["commission_cents"] == 150
    assert a["label"] == "Thread about offer 1"
    direct = rows["direct"]
    assert (
        direct["orders"],
        direct["revenue_cents"],
        direct["commission_cents"],
        direct["clicks"],
    ) == (1, 7_000, 0, 0)
    assert a["click_rate"] == round(2 / 3, 4) and a["revenue_per_mille_cents"] == 6_501 * 1000 // 3


def test_totals_equal_the_ledger_in_every_grouping(app, client, month):
    with app.app_context():
        ledger_cents = service.ledger_sum(month["merchant"].id)
        revenue = db.session.scalar(db.select(db.func.sum(Conversion.revenue_cents)))
        clicks = db.session.scalar(db.select(db.func.count()).select_from(Click))
    assert ledger_cents == 350 + 150
    for group in ("post", "author", "offer", "room", "day"):
        report = get_report(client, month["headers"], group)
        totals = report["totals"]
        assert totals["commission_cents"] == ledger_cents
        assert sum(r["commission_cents"] for r in report["items"]) == ledger_cents, group
        assert (
            sum(r["revenue_cents"] for r in report["items"]) == totals["revenue_cents"] == revenue
        ), group
        assert sum(r["clicks"] for r in report["items"]) == totals["clicks"] == clicks, group
        assert sum(r["impressions"] for r in report["items"]) == totals["impressions"] == 6, group
        assert (totals["orders"], totals["actions"]) == (3, 4)  # distinct, however credit was split


def test_report_by_author_offer_room_and_day(app, client, month):
    by_author = rows_by_key(get_report(client, month["headers"], "author"))
    assert by_author[f"user:{month['alice'].id}"]["label"] == "alice"
    assert by_author[f"user:{month['bob'].id}"]["commission_cents"] == 150
    by_offer = rows_by_key(get_report(client, month["headers"], "offer"))
    assert by_offer[f"product:{month['kettle']}"]["label"] == "Kettle"
    assert by_offer[f"product:{month['toaster']}"]["clicks"] == 1
    by_room = rows_by_key(get_report(client, month["headers"], "room"))
    assert set(by_room) == {"forum", "direct"} and by_room["forum"]["label"] == "Forum posts"
    by_day = get_report(client, month["headers"], "day")
    days = [r["key"] for r in by_day["items"]]
    assert (
        days
        == sorted(days)
        == [START.date().isoformat(), (START + timedelta(days=1)).date().isoformat()]
    )
    day0, day1 = by_day["items"]
    assert (day0["impressions"], day0["clicks"], day0["orders"]) == (6, 3, 0)
    assert (day1["orders"], day1["actions"], day1["revenue_cents"]) == (3, 4, 15_001)


def test_a_date_range_filters_and_pagination_walks_the_rows(app, client, month):
    only_day0 = get_report(
        client,
        month["headers"],
        "post",
        **{"from": START.date().isoformat(), "to": START.date().isoformat()},
    )
    assert only_day0["totals"]["orders"] == 0 and only_day0["totals"]["clicks"] == 3
    first = get_report(client, month["headers"], "post", limit="2")
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = get_report(client, month["headers"], "post", limit="2", cursor=first["next_cursor"])
    assert len(second["items"]) == 1 and second["next_cursor"] is None
    keys = [r["key"] for r in first["items"] + second["items"]]
    assert len(set(keys)) == 3


def test_merchants_see_only_their_own_numbers(app, client, month, make_user, token_for):
    other = make_user("othershop", role="merchant")
    report = get_report(client, token_for(other), "post")
    assert report["items"] == [] and report["totals"]["commission_cents"] == 0


@pytest.mark.parametrize(
    "params,field",
    [
        ({"group_by": "merchant"}, "group_by"),
        ({"group_by": "nonsense"}, "group_by"),
        ({"from": "yesterday"}, "from"),
        ({"from": "2026-03-05", "to": "2026-03-01"}, "from"),
        ({"from": "2020-01-01", "to": "2026-01-01"}, "to"),
        ({"limit": "0"}, "limit"),
    ],
)
def test_bad_report_queries_get_422(client, month, params, field):
    response = client.get(
        "/api/v1/merchant/attribution", query_string=params, headers=month["headers"]
    )
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]


def test_report_access(client, month, make_user, token_for):
    assert client.get("/api/v1/merchant/attribution").status_code == 401
    member = token_for(make_user("nosy"))
    assert client.get("/api/v1/merchant/attribution", headers=member).status_code == 403
    assert client.get("/api/v1/admin/attribution", headers=month["headers"]).status_code == 403
    assert (
        client.get("/api/v1/merchant/attribution?cursor=!!!", headers=month["headers"]).status_code
        == 422
    )


def test_admins_see_every_merchant(client, month, make_user, token_for):
    admin = token_for(make_user("boss", role="admin"))
    response = client.get("/api/v1/admin/attribution?group_by=merchant", headers=admin)
    assert response.status_code == 200
    [row] = response.get_json()["items"]
    assert row["key"] == f"user:{month['merchant'].id}" and row["label"] == "shopkeeper"
    assert row["commission_cents"] == 500 and row["orders"] == 3


def test_csv_export(app, month):
    browser = app.test_client()
    login(browser, month["merchant"])
    response = browser.get("/merchant/attribution.csv?group_by=post")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert rows[-1]["key"] == "all" and int(rows[-1]["commission_cents"]) == 500
    assert sum(int(r["commission_cents"]) for r in rows[:-1]) == 500
    assert browser.get("/merchant/attribution.csv?from=bad").status_code == 422
    assert browser.get("/merchant/attribution.csv?group_by=merchant").status_code == 404


def test_csv_neutralises_spreadsheet_formulas(app, make_user, offers, post_with_offer, clock):
    from forum.attribution import reports

    row = reports.Row("post:1", '=HYPERLINK("http://evil")')
    text = reports.to_csv(reports.Report("post", 1, None, None, [row], reports.Row("all", "All")))
    assert "'=HYPERLINK" in text


def test_report_pages(app, month, make_user):
    merchant = app.test_client()
    login(merchant, month["merchant"])
    page = merchant.get("/merchant/attribution")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert (
        "Thread about offer 1" in html
        and 'id="attr-funnel-chart"' in html
        and "data-series=" in html
    )
    assert "chart.umd.min.js" in html and "<script>" not in html
    assert merchant.get("/merchant/attribution?group_by=day").status_code == 200
    assert merchant.get("/merchant/attribution?group_by=nope").status_code == 404
    assert (
        merchant.get("/merchant/attribution?from=garbage").status_code == 200
    )  # falls back, says why
    assert merchant.get("/attribution").headers["Location"].endswith("/merchant/attribution")
    member = app.test_client()
    login(member, make_user("nosy"))
    assert member.get("/merchant/attribution").status_code == 403
    assert member.get("/admin/attribution").status_code == 403
    assert member.get("/attribution").headers["Location"].endswith("/me/earnings")
    admin = app.test_client()
    login(admin, make_user("boss", role="admin"))
    assert admin.get("/admin/attribution?group_by=merchant").status_code == 200
    assert admin.get("/attribution").headers["Location"].endswith("/admin/attribution")
    assert app.test_client().get("/merchant/attribution").status_code == 302  # to the login page
