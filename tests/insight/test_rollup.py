"""The merchant roll-up with coupons and campaigns: each row is the promotion's own
evaluation (holdout or matched control, costs from the coupons' uses and the commission
ledger), in a number of statements that does not grow with the promotions; the CSV,
the chart and the admin roll-up across merchants, each for whom it is meant only."""

import csv
import io

import pytest
from sqlalchemy import event, update

from forum.accounts.models import User
from forum.board import service as board
from forum.board.models import Category, Post, ThreadRead
from forum.campaigns.models import Campaign, Delivery, Segment
from forum.extensions import db
from forum.insight import service
from forum.members.coupons.models import Coupon, CouponRedemption
from tests.conftest import app_context, login
from tests.insight import evaluation_journeys
from tests.insight.evaluation_journeys import PERIOD, at
from tests.insight.test_health import BAD_RANGES

journeys = evaluation_journeys.journeys  # the fixture


def _campaign(owner_id, segment_id, name, deliveries, *, holdout_bp=0, code=""):
    campaign = Campaign(
        name=name,
        channel="email",
        segment_id=segment_id,
        body="Hello",
        holdout_bp=holdout_bp,
        coupon_code=code,
        status="finished",
        started_at=at(3, 8),
        created_by_id=owner_id,
    )
    db.session.add(campaign)
    db.session.flush()
    for user_id, status in deliveries:
        db.session.add(
            Delivery(
                campaign_id=campaign.id,
                user_id=user_id,
                status=status,
                sent_at=at(3, 8) if status == "sent" else None,
            )
        )
    return campaign.id


def _coupon(merchant_id, code):
    coupon = Coupon(
        code=code,
        merchant_id=merchant_id,
        kind="fixed",
        value=100,
        currency="USD",
        starts_at=at(2, 0),
    )
    db.session.add(coupon)
    db.session.flush()
    return coupon.id


@pytest.fixture
def mailed(app, journeys, make_category):
    """On top of the snap-up journeys, acme's:

    Spring    campaign with a holdout, carrying SPRING10: sent e1, e2; holdout c1, c2
    Plain     campaign without a holdout: sent e2, e3 (matched control)
    SPRING10  coupon carried by Spring (its holdout is the control): e1 used it
              (1.00 off), e2's use was released
    WELCOME5  coupon no campaign carries, given in a post c2 wrote: e1 and e2 read it
    and beta's campaign "Theirs" (not acme's to see).
    """
    people, shop, other = journeys["people"], journeys["shop"], journeys["other"]
    category_id = make_category("deals")
    with app_context(app), app.test_request_context("/"):
        segment = Segment(name="all", rule={})
        db.session.add(segment)
        db.session.flush()
        p = {name: person.id for name, person in people.items()}
        spring = _campaign(
            shop.user.id,
            segment.id,
            "Spring",
            [(p["e1"], "sent"), (p["e2"], "sent"), (p["c1"], "holdout"), (p["c2"], "holdout")],
            holdout_bp=5000,
            code="SPRING10",
        )
        plain = _campaign(shop.user.id, segment.id, "Plain", [(p["e2"], "sent"), (p["e3"], "sent")])
        theirs = _campaign(other.user.id, segment.id, "Theirs", [(p["e1"], "sent")])
        spring10 = _coupon(shop.merchant_id, "SPRING10")
        welcome = _coupon(shop.merchant_id, "WELCOME5")
        for name, discount, state in (("e1", 100, "active"), ("e2", 50, "released")):
            db.session.add(
                CouponRedemption(
                    coupon_id=spring10,
                    order_id=journeys["orders"][name],
                    user_id=p[name],
                    discount_cents=discount,
                    currency="USD",
                    state=state,
                )
            )
        thread = board.create_thread(
            db.session.get(User, p["c2"]),
            db.session.get(Category, category_id),
            "Welcome deals",
            "Use welcome5 at Acme this week",
        )
        db.session.execute(
            update(Post).where(Post.thread_id == thread.id).values(created_at=at(3, 8))
        )
        for name in ("e1", "e2"):
            db.session.merge(ThreadRead(user_id=p[name], thread_id=thread.id, last_read_position=1))
        segment_id = segment.id
        db.session.commit()
    return {
        **journeys,
        "segment": segment_id,
        "category": category_id,
        "ids": {
            ("campaign", "Spring"): spring,
            ("campaign", "Plain"): plain,
            ("campaign", "Theirs"): theirs,
            ("coupon", "SPRING10"): spring10,
            ("coupon", "WELCOME5"): welcome,
        },
    }


def _rollup(app, merchant_user_id):
    """The roll-up and how many statements it ran."""
    with app_context(app):
        ran = []
        listener = lambda *args: ran.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            rollup = service.merchant_rollup(merchant_user_id, PERIOD["from"], PERIOD["to"])
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return rollup, len(ran)


def _evaluation(client, headers, kind, ident):
    response = client.get(
        f"/api/v1/merchant/promotions/{kind}/{ident}/evaluation",
        query_string=PERIOD,
        headers=headers,
    )
    assert response.status_code == 200, response.json
    return response.json


def test_coupons_and_campaigns_are_each_their_own_evaluation(app, client, mailed):
    shop, ids = mailed["shop"], mailed["ids"]
    rollup, _ran = _rollup(app, shop.user.id)
    rows = {(row["kind"], row["id"]): row for row in rollup["rows"]}
    assert ("campaign", ids[("campaign", "Theirs")]) not in rows
    for kind, name in (
        ("campaign", "Spring"),
        ("campaign", "Plain"),
        ("coupon", "SPRING10"),
        ("coupon", "WELCOME5"),
    ):
        ident = ids[(kind, name)]
        alone = _evaluation(client, shop.headers, kind, ident)
        row = rows[(kind, ident)]
        assert row["label"] == alone["label"]
        assert row["control"] == alone["control"]
        assert row["reach"] == alone["reach"], name
        assert row["incremental_revenue_cents"] == pytest.approx(
            alone["incremental_revenue_cents"]["value"]
        ), name
        assert row["incremental_revenue_high_cents"] == pytest.approx(
            alone["incremental_revenue_cents"]["high"]
        ), name
        assert row["cost_cents"] == alone["cost"]["total_cents"], name
        assert row["roi"] == (alone["roi"] and pytest.approx(alone["roi"]["value"], abs=1e-4))
    # By hand: Spring sent e1 (2 orders, 20.00) and e2 (1, 10.00) against its holdout c1
    # (10.00) and c2 (0): 2 * (15.00 - 5.00) = 20.00. SPRING10 is measured on Spring's
    # recipients too; its cost is e1's live use (1.00), as is Spring's.
    spring = rows[("campaign", ids[("campaign", "Spring")])]
    assert (spring["control"], spring["reach"]) == ("holdout", 2)
    assert spring["incremental_revenue_cents"] == pytest.approx(2000)
    assert spring["cost_cents"] == 100
    assert spring["roi"] == pytest.approx(0.3 * 2000 / 100)
    coupon = rows[("coupon", ids[("coupon", "SPRING10")])]
    assert (coupon["reach"], coupon["cost_cents"]) == (2, 100)
    welcome = rows[("coupon", ids[("coupon", "WELCOME5")])]
    assert (welcome["control"], welcome["reach"], welcome["cost_cents"]) == ("matched", 2, 0)
    assert rows[("campaign", ids[("campaign", "Plain")])]["control"] == "matched"
    assert rollup["totals"]["promotions"] == len(rollup["rows"])
    assert rollup["totals"]["cost_cents"] == sum(row["cost_cents"] for row in rollup["rows"])


def test_more_coupons_and_campaigns_run_no_more_statements(app, mailed):
    shop, people = mailed["shop"], mailed["people"]
    _rollup(app, shop.user.id)  # warm what is read once per process
    before, few = _rollup(app, shop.user.id)
    with app_context(app):
        for n in range(6):
            code = f"EXTRA{n}"
            _coupon(shop.merchant_id, code)
            deliveries = [(people["c3"].id, "sent"), (people["c4"].id, "holdout")]
            _campaign(
                shop.user.id,
                mailed["segment"],
                f"Extra {n}",
                deliveries,
                holdout_bp=5000 if n % 2 else 0,
                code=code if n % 3 else "",
            )
        db.session.commit()
    after, many = _rollup(app, shop.user.id)
    assert len(after["rows"]) == len(before["rows"]) + 12
    assert many == few


def test_rollup_csv_and_chart_for_the_merchant_only(app, client, mailed, make_user):
    shop = mailed["shop"]
    login(client, shop.user)
    page = client.get("/merchant/evaluation", query_string=PERIOD)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'canvas class="ins-bar"' in html and "data-series=" in html
    assert "format=csv" in html
    download = client.get("/merchant/evaluation", query_string={**PERIOD, "format": "csv"})
    assert download.status_code == 200
    assert download.mimetype == "text/csv"
    assert "attachment" in download.headers["Content-Disposition"]
    table = list(csv.reader(io.StringIO(download.get_data(as_text=True))))
    header = table[1]
    assert header[:4] == ["kind", "id", "label", "control"]
    kinds = {row[0] for row in table[2:]}
    assert {"snap", "campaign", "coupon"} <= kinds
    assert str(mailed["ids"][("campaign", "Theirs")]) not in {
        row[1] for row in table[2:] if row[0] == "campaign"
    }
    # beta sees only its own campaign; a plain member may not look.
    beta = app.test_client()
    login(beta, mailed["other"].user)
    theirs = beta.get("/merchant/evaluation", query_string={**PERIOD, "format": "csv"})
    rows = list(csv.reader(io.StringIO(theirs.get_data(as_text=True))))[2:]
    # (its product card, seen by c1..c5 in the journeys, and its campaign)
    assert {(row[0], row[2]) for row in rows} == {
        ("product", "Product card: Widget"),
        ("campaign", "Campaign: Theirs"),
    }
    member = app.test_client()
    login(member, make_user("plain_r"))
    assert member.get("/merchant/evaluation").status_code == 403
    assert member.get("/merchant/evaluation", query_string={"format": "csv"}).status_code == 403
    assert member.get("/admin/evaluation", query_string={"format": "csv"}).status_code == 403
    # A merchant's bad period: the page says why, and no CSV is sent.
    bad = client.get("/merchant/evaluation", query_string={"from": "nope", "format": "csv"})
    assert bad.status_code == 400 and bad.mimetype == "text/html"
    assert "Use a date like" in bad.get_data(as_text=True)


def test_admin_rollup_across_merchants_page_and_csv(app, client, mailed, make_user):
    login(client, mailed["shop"].user)
    assert client.get("/admin/evaluation").status_code == 403  # a merchant is not an admin
    client = app.test_client()
    login(client, make_user("root_r", role="admin"))
    page = client.get("/admin/evaluation", query_string=PERIOD)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-table="merchants"' in html
    assert 'data-merchant="Acme Store"' in html and 'data-merchant="Beta Store"' in html
    assert 'data-table="promotions"' in html  # the list to pick one from stays
    download = client.get("/admin/evaluation", query_string={**PERIOD, "format": "csv"})
    assert download.status_code == 200 and download.mimetype == "text/csv"
    table = list(csv.reader(io.StringIO(download.get_data(as_text=True))))
    assert table[1][:3] == ["merchant", "kind", "id"]
    by_merchant = {(row[0], row[1], row[2]) for row in table[2:]}
    assert ("Beta Store", "campaign", str(mailed["ids"][("campaign", "Theirs")])) in by_merchant
    assert ("Acme Store", "snap", str(mailed["snap"])) in by_merchant
    assert client.get("/admin/evaluation", query_string={"to": "x"}).status_code == 400


def test_admin_rollup_totals_are_the_merchants_rollups(app, mailed):
    with app_context(app):
        everyone = service.admin_rollup(PERIOD["from"], PERIOD["to"])
        acme = service.merchant_rollup(mailed["shop"].user.id, PERIOD["from"], PERIOD["to"])
    merchants = {m["name"]: m for m in everyone["merchants"]}
    assert merchants["Acme Store"]["totals"] == acme["totals"]
    assert merchants["Acme Store"]["rows"] == acme["rows"]
    assert {row["label"] for row in merchants["Beta Store"]["rows"]} == {
        "Product card: Widget",
        "Campaign: Theirs",
    }


# --- the roll-ups in the API ------------------------------------------------------------

ROLLUP_API = "/api/v1/merchant/promotions/evaluation"
ADMIN_ROLLUP_API = "/api/v1/admin/promotions/evaluation"


def test_the_api_rollup_is_each_promotions_own_evaluation(client, mailed):
    shop = mailed["shop"]
    response = client.get(ROLLUP_API, query_string=PERIOD, headers=shop.headers)
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["from"], body["to"]) == (PERIOD["from"], PERIOD["to"])
    kinds = {row["kind"] for row in body["rows"]}
    assert {"snap", "campaign", "coupon"} <= kinds
    for row in body["rows"]:
        alone = _evaluation(client, shop.headers, row["kind"], row["id"])
        what = (row["kind"], row["label"])
        assert row["reach"] == alone["reach"], what
        assert row["participants"] == alone["opportunities"]["participants"], what
        for side, prefix in (("exposed", "exposed_"), ("unexposed", "unexposed_")):
            assert row[f"{prefix}orders"] == alone[side]["orders"], what
            assert row[f"{prefix}revenue_cents"] == alone[side]["revenue_cents"], what
        assert row["unexposed_members"] == alone["unexposed"]["members"], what
        for name, figure in (
            ("incremental_orders", "incremental_orders"),
            ("incremental_revenue", "incremental_revenue_cents"),
        ):
            suffix = "_cents" if name == "incremental_revenue" else ""
            assert row[f"{name}{suffix}"] == pytest.approx(alone[figure]["value"]), what
            assert row[f"{name}_low{suffix}"] == pytest.approx(alone[figure]["low"]), what
            assert row[f"{name}_high{suffix}"] == pytest.approx(alone[figure]["high"]), what
        assert row["cost_cents"] == alone["cost"]["total_cents"], what
    # By hand, the snap-up: e1 (2 orders, 20.00), e2 (1, 10.00), e3 (none) exposed; e3
    # clicked and e1, e2 bought units: 3 participants.
    snap = next(row for row in body["rows"] if (row["kind"], row["id"]) == ("snap", mailed["snap"]))
    assert (snap["reach"], snap["exposed_orders"], snap["exposed_revenue_cents"]) == (4, 3, 3000)
    # Spring: sent e1 and e2 (3 orders, 30.00) against its holdout c1 (10.00) and c2.
    spring = next(row for row in body["rows"] if row["label"] == "Campaign: Spring")
    assert (spring["unexposed_members"], spring["unexposed_orders"]) == (2, 1)
    assert spring["incremental_orders"] == pytest.approx(2 * (1.5 - 0.5))
    assert body["totals"]["promotions"] == len(body["rows"])


def test_each_merchant_sees_only_their_rollup_and_members_none(
    app, client, mailed, make_user, token_for
):
    theirs = client.get(ROLLUP_API, query_string=PERIOD, headers=mailed["other"].headers)
    assert theirs.status_code == 200, theirs.json
    assert {(row["kind"], row["label"]) for row in theirs.json["rows"]} == {
        ("product", "Product card: Widget"),
        ("campaign", "Campaign: Theirs"),
    }
    mine = client.get(ROLLUP_API, query_string=PERIOD, headers=mailed["shop"].headers).json
    spring = mailed["ids"][("campaign", "Theirs")]
    assert ("campaign", spring) not in {(row["kind"], row["id"]) for row in mine["rows"]}
    member = token_for(make_user("plain_api"))
    assert client.get(ROLLUP_API, headers=member).status_code == 403
    assert client.get(ADMIN_ROLLUP_API, headers=member).status_code == 403
    assert client.get(ADMIN_ROLLUP_API, headers=mailed["shop"].headers).status_code == 403
    anonymous = app.test_client()
    assert anonymous.get(ROLLUP_API).status_code == 401
    assert anonymous.get(ADMIN_ROLLUP_API).status_code == 401


@pytest.mark.parametrize("query, field", BAD_RANGES)
def test_bad_rollup_periods_are_422(client, journeys, make_user, token_for, query, field):
    admin = token_for(make_user("root_bad", role="admin"))
    for url, headers in ((ROLLUP_API, journeys["shop"].headers), (ADMIN_ROLLUP_API, admin)):
        response = client.get(url, query_string=query, headers=headers)
        assert response.status_code == 422, (url, response.json)
        assert field in response.json["error"]["fields"]


def test_the_admin_api_rollup_is_every_merchants(client, mailed, make_user, token_for):
    admin = token_for(make_user("root_api", role="admin"))
    response = client.get(ADMIN_ROLLUP_API, query_string=PERIOD, headers=admin)
    assert response.status_code == 200, response.json
    merchants = {m["name"]: m for m in response.json["merchants"]}
    assert set(merchants) == {"Acme Store", "Beta Store"}
    acme = client.get(ROLLUP_API, query_string=PERIOD, headers=mailed["shop"].headers).json
    assert merchants["Acme Store"]["id"] == mailed["shop"].user.id
    assert merchants["Acme Store"]["rows"] == acme["rows"]
    assert merchants["Acme Store"]["totals"] == acme["totals"]
    every = [row for m in merchants.values() for row in m["rows"]]
    assert response.json["totals"]["promotions"] == len(every)
