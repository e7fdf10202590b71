"""HTML form of the coupon pages. It only parses; the service decides what is valid.

The discount is typed as people say it: "10" (or "12.5") percent, or an amount of money
in the coupon's currency; the form turns it into basis points or minor units. Times are
typed in the viewer's own zone (``datetime-local``).
"""

from decimal import Decimal, InvalidOperation

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateTimeLocalField, IntegerField, SelectField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ... import money
from ...formfields import MoneyField
from ...shop_embed.service import MAX_PRICE_CENTS
from ...templating import viewer_zone
from .models import AUDIENCES

LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
CURRENCIES = ("USD", "EUR", "GBP", "CNY", "JPY")
AUDIENCE_LABELS = {
    "all": "Everyone",
    "registered": "Registered (never bought)",
    "shopper": "Shoppers",
    "vip": "VIP members",
}


class CouponForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired(), Length(3, 32)])
    kind = SelectField(
        "Kind",
        choices=[SelectChoice("percent", "Percent off"), SelectChoice("fixed", "Amount off")],
    )
    value = StringField(
        "Discount", validators=[DataRequired()], description="10 for 10% off, or an amount"
    )
    currency = SelectField("Currency", choices=[SelectChoice(c, c) for c in CURRENCIES])
    min_subtotal_cents = MoneyField(
        "Minimum merchandise total (optional)", max_minor=MAX_PRICE_CENTS
    )
    starts_at = DateTimeLocalField(
        "Valid from (optional)", format=LOCAL_FORMATS, validators=[Optional()]
    )
    ends_at = DateTimeLocalField(
        "Valid until (optional)", format=LOCAL_FORMATS, validators=[Optional()]
    )
    max_uses = IntegerField("Total uses (empty: no limit)", validators=[Optional()])
    per_user_limit = IntegerField("Uses per member", default=1, validators=[DataRequired()])
    audience = SelectField(
        "Audience", choices=[SelectChoice(a, AUDIENCE_LABELS[a]) for a in AUDIENCES]
    )
    completed_orders = IntegerField(
        "Only members with exactly this many completed orders (optional)",
        validators=[Optional()],
        description="1 makes a second-purchase coupon",
    )
    first_order_only = BooleanField("First order only")

    def validate_value(self, field):
        raw = (field.data or "").strip()
        if self.kind.data == "percent":
            try:
                percent = Decimal(raw.rstrip("%").strip().replace(",", "."))
            except InvalidOperation:
                raise ValidationError("Type a percentage such as 10 or 12.5.") from None
            if not percent.is_finite() or percent.as_tuple().exponent < -2:
                raise ValidationError("Use at most two decimals.")
            self.parsed_value = int(percent * 100)
        else:
            try:
                amount = money.Money.parse(raw, self.currency.data, money.viewer_locale())
            except money.MoneyError as err:
                raise ValidationError(str(err)) from None
            self.parsed_value = amount.minor

    def values(self) -> dict:
        """The service's keyword arguments (``create_coupon``)."""
        return {
            "code": self.code.data,
            "kind": self.kind.data,
            "value": self.parsed_value,
            "currency": self.currency.data,
            "min_subtotal_cents": self.min_subtotal_cents.data or 0,
            "starts_at": _aware(self.starts_at.data),
            "ends_at": _aware(self.ends_at.data),
            "max_uses": self.max_uses.data,
            "per_user_limit": self.per_user_limit.data,
            "audience": self.audience.data,
            "completed_orders": self.completed_orders.data,
            "first_order_only": bool(self.first_order_only.data),
        }


def _aware(value):
    return value.replace(tzinfo=viewer_zone()) if value is not None else None


class ToggleForm(FlaskForm):
    """Withdraw or bring back a coupon (a button; CSRF only)."""
