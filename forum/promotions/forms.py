"""HTML forms of the merchant pages. They only parse; the service decides what is valid.

Times are typed in the merchant's own zone (``datetime-local``) and handed to the
service as aware datetimes.
"""

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateTimeLocalField, IntegerField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Optional, StopValidation

from .. import money
from ..formfields import MoneyField
from ..shop_embed.service import MAX_PRICE_CENTS

LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


MAX_STEPS = 10


class LadderStepsField(TextAreaField):
    """A ladder's price steps, one per line: ``team size = price`` (``2 = 15.00``).

    ``data`` is ``[{team_size, price_cents}]`` in the order typed, or None when empty;
    whether the steps make a ladder (ascending sizes, falling prices) is the service's.
    """

    def process_formdata(self, valuelist):
        self.raw = (valuelist[0] if valuelist else "").strip()
        self.data = None

    def pre_validate(self, form):
        self.data = None
        lines = [line.strip() for line in getattr(self, "raw", "").splitlines() if line.strip()]
        if not lines:
            return
        if len(lines) > MAX_STEPS:
            raise StopValidation(f"At most {MAX_STEPS} steps.")
        currency = getattr(form, "money_currency", "USD")
        steps = []
        for number, line in enumerate(lines, 1):
            size, sep, price = line.partition("=")
            size = size.strip()
            if not sep or not size.isdigit() or len(size) > 3:
                raise StopValidation(
                    f"Line {number}: write it as team size = price, e.g. 3 = 13.00."
                )
            try:
                amount = money.Money.parse(price.strip(), currency, money.viewer_locale())
            except money.MoneyError as err:
                raise StopValidation(f"Line {number}: {err}") from None
            if abs(amount.minor) > MAX_PRICE_CENTS:
                raise StopValidation(f"Line {number}: that amount is too large.")
            steps.append({"team_size": int(size), "price_cents": amount.minor})
        self.data = steps

    def _value(self):
        if getattr(self, "raw", None) is not None:
            return self.raw
        if not self.data:
            return ""
        currency = getattr(self._form, "money_currency", "USD") if self._form else "USD"
        return "\n".join(
            f"{step['team_size']} = "
            + money.Money(int(step["price_cents"]), currency).plain(money.viewer_locale())
            for step in self.data
        )


class GroupBuyForm(FlaskForm):
    product_id = SelectField("Product", coerce=int, validate_choice=False)
    # A ladder takes its team size and first price from its steps: both may stay empty.
    group_price_cents = MoneyField(
        "Group price", validators=[Optional()], max_minor=MAX_PRICE_CENTS
    )
    team_size = IntegerField("Team size", default=3, validators=[Optional()])
    steps = LadderStepsField("Ladder steps (optional)")
    team_window_minutes = IntegerField(
        "Time to fill a team (minutes)", default=1440, validators=[InputRequired()]
    )
    ends_at = DateTimeLocalField("Campaign ends", format=LOCAL_FORMATS, validators=[DataRequired()])
    auto_complete = BooleanField("Complete teams automatically at expiry (virtual members)")


class SnapForm(FlaskForm):
    product_id = SelectField("Product", coerce=int, validate_choice=False)
    price_cents = MoneyField(
        "Snap-up price", validators=[InputRequired()], max_minor=MAX_PRICE_CENTS
    )
    stock = IntegerField("Units on offer", default=20, validators=[InputRequired()])
    per_user_limit = IntegerField("Limit per member", default=1, validators=[InputRequired()])
    starts_at = DateTimeLocalField("Starts", format=LOCAL_FORMATS, validators=[DataRequired()])
    ends_at = DateTimeLocalField("Ends", format=LOCAL_FORMATS, validators=[DataRequired()])


class AuctionForm(FlaskForm):
    product_id = SelectField("Product", coerce=int, validate_choice=False)
    units = IntegerField("Units on offer", default=5, validators=[InputRequired()])
    start_price_cents = MoneyField(
        "Start price", validators=[InputRequired()], max_minor=MAX_PRICE_CENTS
    )
    floor_price_cents = MoneyField(
        "Floor (reserve) price", validators=[InputRequired()], max_minor=MAX_PRICE_CENTS
    )
    drop_cents = MoneyField("Drop by", validators=[InputRequired()], max_minor=MAX_PRICE_CENTS)
    drop_every_seconds = IntegerField("Every (seconds)", default=60, validators=[InputRequired()])
    starts_at = DateTimeLocalField("Starts", format=LOCAL_FORMATS, validators=[DataRequired()])
    per_user_limit = IntegerField("Limit per member", default=1, validators=[InputRequired()])


class GuessGameForm(FlaskForm):
    product_id = SelectField("Product", coerce=int, validate_choice=False)
    market_price_cents = MoneyField(
        "Market price", validators=[InputRequired()], max_minor=MAX_PRICE_CENTS
    )
    points_per_guess = IntegerField("Points per guess", default=10, validators=[InputRequired()])
    max_guesses_per_user = IntegerField(
        "Guesses per member", default=3, validators=[InputRequired()]
    )
    ends_at = DateTimeLocalField("Closes", format=LOCAL_FORMATS, validators=[DataRequired()])
