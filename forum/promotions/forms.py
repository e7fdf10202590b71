"""HTML forms of the merchant pages. They only parse; the service decides what is valid.

Times are typed in the merchant's own zone (``datetime-local``) and handed to the
service as aware datetimes.
"""

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateTimeLocalField, IntegerField, SelectField
from wtforms.validators import DataRequired, InputRequired

from ..formfields import MoneyField
from ..shop_embed.service import MAX_PRICE_CENTS

LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


class GroupBuyForm(FlaskForm):
    product_id = SelectField("Product", coerce=int, validate_choice=False)
    group_price_cents = MoneyField(
        "Group price", validators=[InputRequired()], max_minor=MAX_PRICE_CENTS
    )
    team_size = IntegerField("Team size", default=3, validators=[InputRequired()])
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
