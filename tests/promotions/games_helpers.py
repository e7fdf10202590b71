"""Helpers for the auction, guessing and ladder tests: creating offers through the API,
giving points, reading rows back."""

from datetime import datetime, timedelta

from sqlalchemy import func, select

from forum.clock import now
from forum.extensions import db
from tests.conftest import app_context


def at(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


def make_auction(client, shop, product_id, **fields) -> dict:
    body = {
        "product_id": product_id,
        "units": 3,
        "start_price_cents": 5000,
        "floor_price_cents": 3800,
        "drop_cents": 500,
        "drop_every_seconds": 60,
        "starts_at": (now() + timedelta(minutes=1)).isoformat(),
        "per_user_limit": 1,
        **fields,
    }
    response = client.post("/api/v1/auctions", json=body, headers=shop.headers)
    assert response.status_code == 201, response.json
    return response.json


def make_game(client, shop, product_id, **fields) -> dict:
    body = {
        "product_id": product_id,
        "market_price_cents": 8900,
        "points_per_guess": 10,
        "max_guesses_per_user": 3,
        "ends_at": (now() + timedelta(hours=1)).isoformat(),
        **fields,
    }
    response = client.post("/api/v1/guess-games", json=body, headers=shop.headers)
    assert response.status_code == 201, response.json
    return response.json


def give_points(app, user_id: int, amount: int) -> None:
    from forum.members import service as members

    with app_context(app):
        members.post(user_id, "points", amount, "test grant")
        db.session.commit()


def points_of(app, user_id: int) -> int:
    from forum.members import service as members

    with app_context(app):
        db.session.remove()
        value = members.balance(user_id, "points")
        db.session.remove()
        return value


def rows(app, model, *where) -> list:
    with app_context(app):
        db.session.remove()
        result = list(db.session.scalars(select(model).where(*where)))
        for row in result:
            db.session.expunge(row)
        db.session.remove()
        return result


def count(app, model, *where) -> int:
    with app_context(app):
        db.session.remove()
        value = db.session.scalar(select(func.count()).select_from(model).where(*where))
        db.session.remove()
        return value


def set_points(app, user_id: int, target: int) -> None:
    """Bring the member's points to ``target`` (new accounts get welcome points)."""
    from forum.members import service as members

    with app_context(app):
        have = members.balance(user_id, "points")
        if have != target:
            members.post(user_id, "points", target - have, "test balance")
        db.session.commit()
