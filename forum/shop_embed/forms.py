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
    StopValidation,
    ValidationError,
)

from .. import money
from .service import CURRENCIES, MAX_PRICE_CENTS, MAX_QUANTITY


class MoneyField(StringField):
    """An amount typed in the viewer's locale; ``data`` is whole minor units (None when empty).

    The currency is the form's ``currency`` field when it has one (the shop profile),
    else the form's ``money_currency`` attribute, set by the view (the shop's
    currency). Parsing and the error messages are ``forum.money.Money``'s. A value
    that cannot be read gets that one error and no other validator runs on it.
    """

    def _currency(self, form) -> str:
        field = getattr(form, "currency", None)
        code = getattr(field, "data", None) if field is not None else None
        return code if money.known_currency(code) else getattr(form, "money_currency", "USD")

    def process_formdata(self, valuelist):
        self.data = None
        self.raw = (valuelist[0] if valuelist else "").strip()

    def pre_validate(self, form):
        self.data = None
        if not getattr(self, "raw", ""):
            return
        try:
            amount = money.Money.parse(self.raw, self._currency(form), money.viewer_locale())
        except money.MoneyError as err:
            raise StopValidation(str(err)) from None
        if abs(amount.minor) > MAX_PRICE_CENTS:
            raise StopValidation("That amount is too large.")
        self.data = amount.minor

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        currency = self._currency(self._form) if self._form is not None else "USD"
        return money.Money(int(self.data), currency).plain(money.viewer_locale())


class MerchantForm(FlaskForm):
    name = StringField("Shop name", validators=[DataRequired(), Length(2, 80)])
    slug = StringField("Shop address", validators=[DataRequired(), Length(2, 48)])
    logo_initials = StringField("Logo initials", validators=[DataRequired(), Length(1, 3)])
    tagline = StringField("Tagline", validators=[Length(max=160)])
    currency = SelectField("Currency", choices=[SelectChoice(c, c) for c in CURRENCIES])
    shipping_fee = MoneyField(
        "Shipping fee", validators=[InputRequired(), NumberRange(min=0, message="Use 0 or more.")]
    )
    free_shipping_threshold = MoneyField("Free shipping from (optional)")
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
    # One key per rendered checkout: a double click or a resubmitted form places one order.
    idempotency_key = HiddenField(validators=[DataRequired(), Length(8, 128)])
    coupon_code = StringField("Coupon code", validators=[Optional(), Length(max=64)])

    def choices(self) -> dict:
        """What the price steps get (members: the coupon code)."""
        code = (self.coupon_code.data or "").strip()
        return {"coupon_code": code} if code else {}

    def validate_idempotency_key(self, field):
        if not field.data.isascii() or not field.data.isprintable():
            raise ValidationError("Please reload the checkout page.")


class PayForm(FlaskForm):
    provider = RadioField("Payment", validators=[DataRequired()])


class ShipForm(FlaskForm):
    tracking = StringField("Tracking number (optional)", validators=[Length(max=80)])
