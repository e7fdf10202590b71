"""HTML forms of the shop. They only parse; the service decides what is valid."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from ..formfields import MoneyField
from .service import CURRENCIES, MAX_PRICE_CENTS, MAX_QUANTITY


class MerchantForm(FlaskForm):
    name = StringField("Shop name", validators=[DataRequired(), Length(2, 80)])
    slug = StringField("Shop address", validators=[DataRequired(), Length(2, 48)])
    logo_initials = StringField("Logo initials", validators=[DataRequired(), Length(1, 3)])
    tagline = StringField("Tagline", validators=[Length(max=160)])
    currency = SelectField("Currency", choices=[SelectChoice(c, c) for c in CURRENCIES])
    shipping_fee = MoneyField(
        "Shipping fee",
        validators=[InputRequired(), NumberRange(min=0, message="Use 0 or more.")],
        max_minor=MAX_PRICE_CENTS,
    )
    free_shipping_threshold = MoneyField("Free shipping from (optional)", max_minor=MAX_PRICE_CENTS)
    offline_payments = BooleanField(
        "Take bank transfer and cash on delivery (you mark those orders paid; their "
        "units stay held for the offline payment window)"
    )


class ProductForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(2, 120)])
    description = TextAreaField("Description (Markdown)", validators=[Length(max=20_000)])
    price = MoneyField(
        "Price",
        validators=[InputRequired(), NumberRange(min=0, message="Use a price of 0 or more.")],
        max_minor=MAX_PRICE_CENTS,
    )
    stock = IntegerField(
        "Stock",
        validators=[
            InputRequired(),
            NumberRange(0, 1_000_000, "Use a whole number from 0 to 1,000,000."),
        ],
    )
    image = FileField("Image (JPEG, PNG, WebP or GIF)")
    active = BooleanField("On sale", default=True)


class QuantityForm(FlaskForm):
    product_id = HiddenField()
    quantity = IntegerField(
        "Quantity", default=1, validators=[InputRequired(), NumberRange(1, MAX_QUANTITY)]
    )


class CartLineForm(FlaskForm):
    product_id = HiddenField()
    quantity = IntegerField("Quantity", validators=[InputRequired(), NumberRange(0, MAX_QUANTITY)])


class AddressForm(FlaskForm):
    """Where an order goes: at checkout, or later on the order page (widget orders)."""

    name = StringField("Full name", validators=[DataRequired(), Length(max=80)])
    line1 = StringField("Address", validators=[DataRequired(), Length(max=120)])
    line2 = StringField("Address line 2", validators=[Optional(), Length(max=120)])
    city = StringField("City", validators=[DataRequired(), Length(max=80)])
    postal_code = StringField("Postal code", validators=[DataRequired(), Length(max=20)])
    country = StringField("Country", validators=[DataRequired(), Length(max=56)])

    def address(self) -> dict:
        return {
            name: getattr(self, name).data or ""
            for name in ("name", "line1", "line2", "city", "postal_code", "country")
        }


class CheckoutForm(AddressForm):
    provider = RadioField("Payment", validators=[DataRequired()])
    # Tenders for the price steps (members): store credit (an amount) and points.
    use_credit = MoneyField(
        "Store credit to use", validators=[Optional()], max_minor=MAX_PRICE_CENTS
    )
    use_points = IntegerField("Points to use", validators=[Optional(), NumberRange(min=0)])

    # One key per rendered checkout: a double click or a resubmitted form places one order.
    idempotency_key = HiddenField(validators=[DataRequired(), Length(8, 128)])
    coupon_code = StringField("Coupon code", validators=[Optional(), Length(max=64)])

    def choices(self) -> dict:
        """What the price steps get: store credit and points to spend, a coupon code."""
        chosen = {
            "use_credit_cents": max(self.use_credit.data or 0, 0),
            "use_points": self.use_points.data or 0,
        }
        code = (self.coupon_code.data or "").strip()
        if code:
            chosen["coupon_code"] = code
        return chosen

    def validate_idempotency_key(self, field):
        if not field.data.isascii() or not field.data.isprintable():
            raise ValidationError("Please reload the checkout page.")


class PayForm(FlaskForm):
    provider = RadioField("Payment", validators=[DataRequired()])


class ShipForm(FlaskForm):
    tracking = StringField("Tracking number (optional)", validators=[Length(max=80)])
