"""With PAYMENTS_SANDBOX off (the production setting) the sandbox is refused with 422 provider_unavailable."""

import pytest

from forum import create_app
from forum.config import ProductionSettingsError

from .conftest import counts, order_body


@pytest.fixture
def config_overrides():
    return {"PAYMENTS_SANDBOX": False}


def test_sandbox_is_unavailable_when_switched_off(app, client, shop, make_product, buyer_headers):
    product_id = make_product(shop)
    order_id = client.post(
        "/api/v1/orders", json=order_body((product_id, 1)), headers=buyer_headers
    ).json["id"]
    before = counts(app)
    response = client.post(
        f"/api/v1/orders/{order_id}/pay", json={"provider": "sandbox"}, headers=buyer_headers
    )
    assert response.status_code == 422
    assert response.json["error"]["code"] == "provider_unavailable"
    assert counts(app) == before
    # Offline still works.
    offline = client.post(
        f"/api/v1/orders/{order_id}/pay", json={"provider": "offline"}, headers=buyer_headers
    )
    assert offline.status_code == 200 and offline.json["payment"]["provider"] == "offline"


def test_checkout_does_not_offer_the_sandbox(app, shop, make_product, buyer):
    from tests.conftest import login

    product_id = make_product(shop)
    client = app.test_client()
    login(client, buyer)
    page = client.get(f"/shop/checkout?product={product_id}&quantity=1").get_data(as_text=True)
    assert 'value="offline"' in page and 'value="sandbox"' not in page


def test_production_refuses_to_start_with_the_sandbox_on(database_uri):
    with pytest.raises(ProductionSettingsError):
        create_app(
            {
                "ENV": "production",
                "SECRET_KEY": "x" * 32,
                "SQLALCHEMY_DATABASE_URI": database_uri,
                "PAYMENTS_SANDBOX": True,
            }
        )
