"""Money typed and shown in the currency's minor units and the viewer's locale (forum.money)."""

import html
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from babel.numbers import get_currency_precision, list_currencies
from sqlalchemy import select

from forum.clock import now
from forum.extensions import db
from forum.money import Money, MoneyError
from forum.shop_embed.models import Product
from tests.conftest import app_context, login

from .conftest import counts


@pytest.mark.parametrize(
    "text, currency, locale, minor",
    [
        ("12.50", "USD", "en_US", 1250),
        ("1,250", "USD", "en_US", 125_000),
        ("12,50", "EUR", "de_DE", 1250),
        ("1.234,5", "EUR", "de_DE", 123_450),
        ("1 234,50", "EUR", "fr_FR", 123_450),  # an ordinary space for French grouping
        ("500", "JPY", "en_US", 500),
        ("500", "JPY", "ja_JP", 500),
        ("12.345", "KWD", "en_US", 12_345),  # three decimals
        ("0", "USD", "en_US", 0),
    ],
)
def test_amounts_are_read_in_the_currencys_minor_units_and_the_locales_separators(
    text, currency, locale, minor
):
    assert Money.parse(text, currency, locale) == Money(minor, currency)


@pytest.mark.parametrize(
    "text, currency, locale, message",
    [
        ("12,50", "USD", "en_US", "“12,50” is ambiguous here"),
        ("12.345", "USD", "en_US", "USD has 2 decimals: use at most 2."),
        ("500.5", "JPY", "en_US", "JPY has no decimals: type a whole amount."),
        ("12,345", "EUR", "de_DE", "EUR has 2 decimals"),
        ("1e3", "USD", "en_US", "Type an amount like 12.50."),
        ("NaN", "USD", "en_US", "Type an amount like 12.50."),
        ("abc", "JPY", "en_US", "Type an amount like 12."),
        ("5", "ZZZ", "en_US", "not an ISO 4217 currency"),
    ],
)
def test_an_amount_that_cannot_be_read_exactly_gets_one_clear_error(
    text, currency, locale, message
):
    with pytest.raises(MoneyError) as refused:
        Money.parse(text, currency, locale)
    assert message in str(refused.value)


@pytest.mark.parametrize("locale", ["en_US", "de_DE", "fr_FR", "ja_JP", "ar_EG", "hi_IN"])
def test_every_iso_4217_currency_round_trips_through_its_own_minor_units(locale):
    for currency in sorted(list_currencies()):
        digits = get_currency_precision(currency)
        amount = Money(1_234_567, currency)
        assert amount.amount == Decimal(1_234_567).scaleb(-digits)
        assert Money.parse(amount.plain(locale), currency, locale) == amount, (currency, locale)


def test_display_follows_the_currency_and_the_viewers_locale():
    assert Money(125_000, "USD").format("en_US") == "$1,250.00"
    assert Money(125_000, "EUR").format("de_DE") == "1.250,00\xa0€"
    assert Money(500, "JPY").format("en_US") == "¥500"
    assert Money(12_345, "KWD").format("en_US").endswith("12.345")


# --- through the merchant pages ----------------------------------------------------


def product_form(**fields) -> dict:
    return {
        "name": "Mug",
        "description": "",
        "price": "5.00",
        "stock": "3",
        "active": "y",
        **fields,
    }


def stored_price(app, name="Mug"):
    with app_context(app):
        return db.session.scalar(select(Product.price_cents).where(Product.name == name))


def test_a_jpy_shop_typing_500_stores_500_yen_and_shows_500_yen(app, make_shop):
    yen = make_shop("kissa", currency="JPY")
    client = app.test_client()
    login(client, yen.user)
    saved = client.post("/shop/merchant/products/new", data=product_form(price="500"))
    assert saved.status_code == 302, saved.get_data(as_text=True)
    assert stored_price(app) == 500
    with app_context(app):
        product_id = db.session.scalar(select(Product.id).where(Product.name == "Mug"))
    page = client.get(f"/shop/p/{product_id}").get_data(as_text=True)
    assert "¥500" in page and "¥50,000" not in page
    edit = client.get(f"/shop/merchant/products/{product_id}/edit").get_data(as_text=True)
    price_input = re.search(r'<input[^>]*name="price"[^>]*>', edit).group(0)
    assert 'value="500"' in price_input, price_input


def test_12_comma_50_in_an_american_browser_is_refused_as_ambiguous_not_stored_as_1250(app, shop):
    client = app.test_client()
    login(client, shop.user)
    client.get("/shop/merchant")
    before = counts(app)
    response = client.post("/shop/merchant/products/new", data=product_form(price="12,50"))
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    assert "“12,50” is ambiguous here" in page
    assert counts(app) == before


def test_12_comma_50_in_a_german_browser_is_twelve_fifty(app, shop):
    client = app.test_client()
    login(client, shop.user)
    saved = client.post(
        "/shop/merchant/products/new",
        data=product_form(price="12,50"),
        headers={"Accept-Language": "de-DE,de;q=0.9"},
    )
    assert saved.status_code == 302
    assert stored_price(app) == 1250
    with app_context(app):
        product_id = db.session.scalar(select(Product.id).where(Product.name == "Mug"))
    page = client.get(f"/shop/p/{product_id}", headers={"Accept-Language": "de-DE"})
    assert "12,50\xa0$" in page.get_data(as_text=True)


def test_too_many_decimals_shows_exactly_one_error(app, shop):
    client = app.test_client()
    login(client, shop.user)
    response = client.post("/shop/merchant/products/new", data=product_form(price="12.345"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    errors = re.findall(r'<p class="field-error" id="price-error">([^<]*)</p>', page)
    assert errors == ["USD has 2 decimals: use at most 2."]


def test_a_jpy_shops_group_buy_price_is_typed_in_yen(app, make_shop, make_product):
    yen = make_shop("kissa", currency="JPY")
    product_id = make_product(yen, "Tea set", price_cents=5000, stock=20)
    client = app.test_client()
    login(client, yen.user)
    created = client.post(
        "/promotions/merchant/group-buys/new",
        data={
            "product_id": str(product_id),
            "group_price_cents": "3500",
            "team_size": "3",
            "team_window_minutes": "60",
            "ends_at": (now() + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert created.status_code == 302, created.get_data(as_text=True)
    from forum.promotions.models import GroupBuy

    with app_context(app):
        assert db.session.scalar(select(GroupBuy.group_price_cents)) == 3500
