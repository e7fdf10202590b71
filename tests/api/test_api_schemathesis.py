"""schemathesis against the live WSGI app: every operation of /api/v1/openapi.json, positive
and negative data, a member's and a merchant's token, every check it has (``--checks all``).

Path parameters are drawn either by schemathesis or from seeded objects (a thread, post,
room, product, order, event, group-buy, team, snap, message), so requests go past the 404s.
The run must produce no server error and no response that breaks the document; the other
checks' findings (e.g. business rules refusing schema-valid data with a 422) are printed.
Runs in the ordinary suite, so CI runs it on SQLite and on PostgreSQL.
"""

from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.core.failures import Failure, FailureGroup

from forum.clock import now
from forum.extensions import db
from tests.conftest import app_context

# schemathesis checks every response itself (response_schema_conformance and the rest).
pytestmark = [pytest.mark.schemathesis, pytest.mark.no_contract]

EXAMPLES_PER_OPERATION = 6
# Failures that mean the server broke or the document lies; none may occur.
FATAL = {
    "ServerError",
    "JsonSchemaError",
    "MalformedJson",
    "UndefinedStatusCode",
    "UndefinedContentType",
    "MissingContentType",
}
ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "1 Analytical Way",
    "city": "London",
    "postal_code": "N1 1AA",
    "country": "GB",
}


@pytest.fixture
def seeded(app, make_user, make_thread, token_for):
    """Objects for every path parameter, made through the API where it can."""
    from forum.accounts.models import User
    from forum.events import service as events
    from forum.shop_embed import service as shop

    admin, member = make_user("stadmin", role="admin"), make_user("stmember")
    merchant = make_user("stshop", role="merchant")
    with app_context(app), app.test_request_context("/"):
        shop.save_merchant_profile(
            db.session.get(User, merchant.id),
            name="St Shop",
            slug="stshop",
            logo_initials="ST",
            currency="USD",
            shipping_fee_cents=500,
            free_shipping_threshold_cents=None,
        )
        starts = now() + timedelta(days=2)
        event_id = events.create_event(
            db.session.get(User, member.id),
            title="Board-game night",
            description="Bring a game.",
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            location="Cafe",
            capacity=5,
        ).id
        db.session.commit()
    thread_id = make_thread(member)
    as_admin, as_member, as_merchant = token_for(admin), token_for(member), token_for(merchant)
    client = app.test_client()

    def post(path, body, headers, status=201):
        response = client.post(path, json=body, headers=headers)
        assert response.status_code == status, (path, response.get_json())
        return response.get_json()

    later = (now() + timedelta(days=3)).isoformat()
    product_id = post(
        "/api/v1/products",
        {"name": "Widget", "price_cents": 1250, "currency": "USD", "stock": 50},
        as_merchant,
    )["id"]
    post("/api/v1/chat/rooms", {"slug": "general", "name": "General"}, as_admin)
    message_id = post("/api/v1/chat/rooms/general/messages", {"body": "hello"}, as_member)["id"]
    order_id = post(
        "/api/v1/orders",
        {"items": [{"product_id": product_id, "quantity": 1}], "shipping_address": ADDRESS},
        as_member,
    )["id"]
    group_buy_id = post(
        "/api/v1/group-buys",
        {
            "product_id": product_id,
            "group_price_cents": 900,
            "team_size": 3,
            "team_window_minutes": 60,
            "ends_at": later,
        },
        as_merchant,
    )["id"]
    team_id = post(
        f"/api/v1/group-buys/{group_buy_id}/teams", {"shipping_address": ADDRESS}, as_member
    )["id"]
    snap_id = post(
        "/api/v1/snaps",
        {
            "product_id": product_id,
            "price_cents": 700,
            "stock": 5,
            "per_user_limit": 2,
            "starts_at": now().isoformat(),
            "ends_at": later,
        },
        as_merchant,
    )["id"]
    post_id = client.get(f"/api/v1/threads/{thread_id}").get_json()["posts"]["items"][0]["id"]
    return {
        "tokens": [as_member, as_merchant],
        "path": {
            "event_id": event_id,
            "group_buy_id": group_buy_id,
            "message_id": message_id,
            "order_id": order_id,
            "post_id": post_id,
            "product_id": product_id,
            "slug": "general",
            "snap_id": snap_id,
            "team_id": team_id,
            "thread_id": thread_id,
            "user_id": member.id,
            "username": member.username,
        },
    }


def strategies(operation, seeds: dict):
    """Cases as schemathesis draws them, and the same with the seeded path parameters."""
    names = [p.name for p in operation.path_parameters]
    fixed = {name: seeds[name] for name in names if name in seeds}
    modes = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
    options = [operation.as_strategy(mode) for mode in modes]
    if fixed:
        options += [operation.as_strategy(mode, path_parameters=fixed) for mode in modes]
    return st.one_of(options)


def test_schemathesis_finds_no_server_error_and_no_schema_violation(app, seeded):
    load_all_checks()
    checks = CHECKS.get_all()  # --checks all
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    found: dict[tuple[str, str], str] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 60

    for operation in operations:

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategies(operation, seeded["path"]), token=st.sampled_from(seeded["tokens"]))
        def run(case, token):
            try:
                case.call_and_validate(headers=token, checks=checks)
            except FailureGroup as group:
                failures = group.exceptions
            except Failure as failure:
                failures = (failure,)
            else:
                return
            for failure in failures:
                key = (type(failure).__name__, case.operation.label)
                found.setdefault(key, f"{failure.title}: {failure.message[:300]}")

        run()

    for (kind, label), message in sorted(found.items()):
        print(f"{kind:28} {label}: {message}")
    fatal = {key: message for key, message in found.items() if key[0] in FATAL}
    assert not fatal, "\n".join(f"{k} {label}: {m}" for (k, label), m in sorted(fatal.items()))
