"""Member fixtures: a shop with a shipping fee, products, and a buyer's order lifecycle
driven through the shop's services (the same functions the pages and the API call)."""

from dataclasses import dataclass

import pytest

from forum.extensions import db
from tests.conftest import app_context
from tests.fixtures.shop import ADDRESS


@pytest.fixture
def shop(make_shop):
    # A flat 5.00 fee with no free-shipping threshold, so VIP free freight shows.
    return make_shop("acme", shipping_fee_cents=500, free_from=None)


@pytest.fixture
def admin(make_user):
    return make_user("admin", role="admin")


@dataclass
class Shopping:
    app: object
    shop: object

    def _user(self, user_id):
        from forum.accounts.models import User

        return db.session.get(User, user_id)

    def buy(self, buyer, product_id, quantity=1, *, complete=True, ship=True, **choices):
        """Checkout with the sandbox (-> paid), then ship and complete; returns the order id."""
        from forum.shop_embed import service

        with app_context(self.app), self.app.test_request_context("/"):
            order = service.checkout(
                self._user(buyer.id),
                [(product_id, quantity)],
                address=dict(ADDRESS),
                provider="sandbox",
                choices=choices or None,
            )
            order_id = order.id
            db.session.commit()
        if ship or complete:
            self.act(order_id, "ship")
        if complete:
            self.act(order_id, "complete")
        return order_id

    def act(self, order_id, action, **kwargs):
        """ship / complete / refund / cancel as the merchant, committed; returns the order."""
        from forum.shop_embed import service
        from forum.shop_embed.models import Order

        with app_context(self.app), self.app.test_request_context("/"):
            order = db.session.get(Order, order_id)
            merchant = self._user(self.shop.user.id)
            if action == "ship":
                service.ship(merchant, order)
            elif action == "complete":
                service.complete(merchant, order)
            elif action == "refund":
                service.refund(merchant, order, **kwargs)
            elif action == "cancel":
                service.cancel(merchant, order)
            db.session.commit()

    def order(self, order_id) -> dict:
        from forum.shop_embed.models import Order

        with app_context(self.app):
            db.session.remove()
            order = db.session.get(Order, order_id)
            data = {
                "status": order.status,
                "subtotal_cents": order.subtotal_cents,
                "shipping_cents": order.shipping_cents,
                "total_cents": order.total_cents,
                "credit_used_cents": order.credit_used_cents,
                "points_used": order.points_used,
                "rebate_cents": order.rebate_cents,
                "adjustments": order.adjustments,
            }
            db.session.remove()
            return data


@pytest.fixture
def shopping(app, shop):
    return Shopping(app, shop)


def wallet(app, user_id) -> dict:
    """Balances as the member sees them, plus the invariant: wallet == ledger sums."""
    from sqlalchemy import func, select

    from forum.members import service
    from forum.members.models import PointsLot, Wallet

    with app_context(app):
        db.session.remove()
        row = db.session.get(Wallet, user_id)
        lots = db.session.scalar(
            select(func.coalesce(func.sum(PointsLot.remaining), 0)).where(
                PointsLot.user_id == user_id
            )
        )
        result = {
            "credit": service.available_credit(user_id),
            "pending": service.pending_credit(user_id),
            "points": service.available_points(user_id),
            "wallet_credit": row.credit_cents if row else 0,
            "wallet_points": row.points if row else 0,
        }
        assert result["wallet_credit"] == service.balance(user_id, "credit")
        assert result["wallet_points"] == service.balance(user_id, "points") == lots
        db.session.remove()
        return result


def tier_of(app, user_id) -> str:
    from forum.accounts.models import User

    with app_context(app):
        db.session.remove()
        tier = db.session.get(User, user_id).tier
        db.session.remove()
        return tier


def give_credit(app, admin, user, cents, reason="goodwill"):
    from forum.accounts.models import User
    from forum.members import service

    with app_context(app), app.test_request_context("/"):
        service.admin_adjust(
            db.session.get(User, admin.id), db.session.get(User, user.id), "credit", cents, reason
        )
        db.session.commit()
