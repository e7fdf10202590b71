"""Numbers past the columns' range and JSON nested past reason are refused at the door:
a 404 or 4xx with the error shape, never a 500 (on SQLite and PostgreSQL alike)."""

import base64
import json

import pytest
from werkzeug.routing import IntegerConverter

from forum.schemas import MAX_DB_INT

BEYOND = [MAX_DB_INT + 1, 2**63, 10**20]


@pytest.fixture
def world(app, make_user, make_thread, token_for):
    admin = make_user("boundsadmin", role="admin")
    return {"headers": token_for(admin), "thread_id": make_thread(admin)}


def int_routes(app):
    """Every (rule, method) with an <int:...> part."""
    for rule in app.url_map.iter_rules():
        if "<int:" in rule.rule:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule, method


@pytest.mark.parametrize("number", BEYOND)
def test_every_int_route_answers_404_beyond_the_column_range(app, world, number):
    client = app.test_client()
    routes = list(int_routes(app))
    assert any(r.rule.startswith("/api/v1/") for r, _ in routes)
    assert any(not r.rule.startswith("/api/") for r, _ in routes)
    for rule, method in routes:
        url = rule.rule
        for part in rule.arguments:
            value = str(number) if isinstance(rule._converters[part], IntegerConverter) else "x"
            url = url.replace(f"<int:{part}>", value).replace(f"<{part}>", value)
        response = client.open(url, method=method, headers=world["headers"])
        # Not 405 either: the bound is in the converter's regex, so no rule matches at all.
        assert response.status_code == 404, (method, url, response.status_code)


def test_the_largest_id_still_reaches_the_view(app, world):
    response = app.test_client().get(f"/api/v1/threads/{MAX_DB_INT}", headers=world["headers"])
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("number", BEYOND)
def test_ids_and_quantities_in_bodies_beyond_the_range_are_422(app, world, number):
    client = app.test_client()
    order = client.post(
        "/api/v1/orders",
        json={"items": [{"product_id": number, "quantity": 1}]},
        headers=world["headers"],
    )
    assert order.status_code == 422, order.get_data(as_text=True)
    assert "items.0.product_id" in order.get_json()["error"]["fields"]
    quantity = client.post(
        "/api/v1/orders",
        json={"items": [{"product_id": 1, "quantity": number}]},
        headers=world["headers"],
    )
    assert quantity.status_code == 422
    reply = client.post(
        f"/api/v1/threads/{world['thread_id']}/posts",
        json={"body": "hello", "reply_to": number},
        headers=world["headers"],
    )
    assert reply.status_code == 422
    assert "reply_to" in reply.get_json()["error"]["fields"]


def forged(values) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.mark.parametrize("number", BEYOND)
def test_cursors_and_query_ids_beyond_the_range_are_refused(app, world, number):
    client = app.test_client()
    thread = client.get(
        f"/api/v1/threads/{world['thread_id']}?cursor={forged([number])}",
        headers=world["headers"],
    )
    assert thread.status_code == 422
    assert thread.get_json()["error"]["fields"] == {"cursor": ["That cursor is not valid."]}
    listing = client.get(
        f"/api/v1/categories/general/threads?cursor={forged([False, '2024-01-01', number])}"
    )
    assert listing.status_code == 422
    orders = client.get(f"/api/v1/orders?cursor={forged([number])}", headers=world["headers"])
    assert orders.status_code == 422
    limit = client.get(f"/api/v1/orders?limit={number}", headers=world["headers"])
    assert limit.status_code == 422


def nested(depth: int, opener: str = "[", closer: str = "]") -> bytes:
    return (opener * depth + closer * depth).encode()


@pytest.mark.parametrize(
    "body",
    [nested(1000), nested(100_000), b'{"a":' * 1000 + b"1" + b"}" * 1000, nested(33)],
    ids=["lists-1000", "lists-100000", "objects-1000", "lists-33"],
)
def test_deeply_nested_json_bodies_are_400_invalid_json(app, world, body):
    client = app.test_client()
    for url in ("/api/v1/threads", "/api/v1/orders", "/api/v1/auth/token"):
        response = client.post(
            url, data=body, content_type="application/json", headers=world["headers"]
        )
        assert response.status_code == 400, (url, response.status_code)
        error = response.get_json()["error"]
        assert error["code"] == "invalid_json" and set(error) == {"code", "message", "fields"}


def test_reasonably_nested_json_is_still_read(app, world):
    response = app.test_client().post(
        "/api/v1/orders",
        json={"items": [{"product_id": 1, "quantity": 1}], "shipping_address": None},
        headers=world["headers"],
    )
    assert response.status_code in (404, 422)  # no such product; parsed and validated
    assert response.get_json()["error"]["code"] != "invalid_json"
