"""Community health from hand-built members on a controlled clock: every figure (active
members, first-week activation, threads and replies, first-reply wait, retention cohorts,
top contributors) equals the hand computation written beside it; plus who may see it."""

import pytest

from tests.conftest import login
from tests.insight import journeys
from tests.insight.journeys import RANGE

community = journeys.community  # the fixture


@pytest.fixture
def admin_headers(make_user, token_for):
    return token_for(make_user("root", role="admin"))


def health(client, headers, **query):
    response = client.get("/api/v1/admin/health", query_string=query or RANGE, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def test_active_members_per_day_and_week(client, community, admin_headers):
    figures = health(client, admin_headers)
    active = {d["day"]: d["members"] for d in figures["active"]["days"]}
    assert len(active) == 14
    busy = {day: n for day, n in active.items() if n}
    # erin's deleted reply (03-04) and carol's unpaid order (03-13) are not activity.
    assert busy == {
        "2026-03-02": 1,
        "2026-03-03": 1,
        "2026-03-10": 2,
        "2026-03-11": 2,
        "2026-03-12": 1,
        "2026-03-14": 1,
    }
    # 03-09..03-15: alice, bob, carol, dave, olga.
    assert figures["active"]["wau"] == 5
    assert figures["active"]["mau"] == 5
    assert "post or reply" in figures["active"]["definition"]


def test_new_members_and_first_week_activation(client, community, admin_headers):
    figures = health(client, admin_headers)["new_members"]
    assert figures["total"] == 5
    per_day = {d["day"]: d["members"] for d in figures["days"] if d["members"]}
    assert per_day == {
        "2026-03-02": 1,
        "2026-03-03": 1,
        "2026-03-04": 1,
        "2026-03-09": 1,
        "2026-03-10": 1,
    }
    # posted: alice (T1 after 2 h); replied: bob (4 h), carol (2 days); bought: dave (4 h);
    # alice's purchase came 7d23h after sign-up, bob's thread 8d1h: outside the week.
    assert figures["activation"] == {
        "posted": 1,
        "replied": 2,
        "bought": 1,
        "any": 4,
        "share": 0.8,
    }


def test_posting_and_first_replies(client, community, admin_headers):
    figures = health(client, admin_headers)
    days = {d["day"]: (d["threads"], d["replies"]) for d in figures["posting"]["days"]}
    assert {day: pair for day, pair in days.items() if pair != (0, 0)} == {
        "2026-03-02": (1, 0),
        "2026-03-03": (0, 1),
        "2026-03-11": (1, 1),
        "2026-03-12": (1, 0),
        "2026-03-14": (0, 1),
    }
    # T1 answered after 1440 min, T2 after 60, T3 never: median (1440 + 60) / 2.
    assert figures["replies"] == {
        "threads": 3,
        "answered": 2,
        "answered_share": 0.6667,
        "median_first_reply_minutes": 750.0,
    }


def test_retention_cohorts_by_signup_week(client, community, admin_headers):
    cohorts = health(client, admin_headers)["retention"]["cohorts"]
    # Week of 03-02: alice, bob, erin; W0 alice and bob; W1 alice (order, T3), bob (T2).
    # Week of 03-09: carol, dave, both active in their first week; no W1 yet.
    assert cohorts == [
        {
            "week_start": "2026-03-02",
            "members": 3,
            "weeks": [
                {"week": 0, "members": 2, "share": 0.6667},
                {"week": 1, "members": 2, "share": 0.6667},
            ],
        },
        {
            "week_start": "2026-03-09",
            "members": 2,
            "weeks": [{"week": 0, "members": 2, "share": 1.0}],
        },
    ]


def test_top_contributors_count_live_posts(client, community, admin_headers):
    top = health(client, admin_headers)["top_contributors"]
    assert [(c["username"], c["posts"], c["replies"]) for c in top[:2]] == [
        ("alice", 2, 0),
        ("bob", 2, 1),
    ]
    assert {c["username"]: (c["posts"], c["replies"]) for c in top[2:]} == {
        "olga": (1, 1),
        "carol": (1, 1),
    }


def test_a_quiet_range_is_all_zeros(client, community, admin_headers):
    figures = health(client, admin_headers, **{"from": "2025-06-01", "to": "2025-06-03"})
    assert [d["members"] for d in figures["active"]["days"]] == [0, 0, 0]
    assert figures["new_members"]["activation"]["share"] == 0.0
    assert figures["replies"]["median_first_reply_minutes"] is None
    assert figures["retention"]["cohorts"] == []
    assert figures["top_contributors"] == []


#: Bad ``?from=&to=`` periods and the field each one names (the roll-ups' tests use them too).
BAD_RANGES = [
    ({"from": "yesterday"}, "from"),
    ({"to": "2026-13-01"}, "to"),
    ({"from": "2026-03-10", "to": "2026-03-01"}, "from"),
    ({"from": "2020-01-01", "to": "2026-01-01"}, "to"),
    ({"from": "9" * 400}, "from"),
]


@pytest.mark.parametrize("query, field", BAD_RANGES)
def test_bad_ranges_are_422(client, admin_headers, query, field):
    response = client.get("/api/v1/admin/health", query_string=query, headers=admin_headers)
    assert response.status_code == 422
    assert field in response.json["error"]["fields"]


def test_only_admins_see_health(client, make_user, token_for, member_client):
    headers = token_for(make_user("plain"))
    assert client.get("/api/v1/admin/health", headers=headers).status_code == 403
    assert member_client.get("/admin/health").status_code == 403
    assert client.get("/api/v1/admin/health").status_code == 401


def test_admin_page_shows_charts_and_tables(app, client, community, make_user):
    login(client, make_user("boss", role="admin"))
    page = client.get("/admin/health", query_string=RANGE)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count("<canvas") == 6  # no event took place: no attendance chart
    assert 'data-table="retention"' in html and "67%" in html
    assert 'data-total="wau">5<' in html
    assert "750.0 min" in html
    assert "<script>" not in html  # CSP: charts come from static/js/insight.js
    # Top contributors' names open the member card, as names do everywhere.
    assert 'href="/u/olga" data-user-card="/u/olga/card"' in html
    bad = client.get("/admin/health", query_string={"from": "soon"})
    assert bad.status_code == 422
    assert "Use a date like" in bad.get_data(as_text=True)
