"""HTML forms of member operations. They only parse; the service decides what is valid."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from .models import FUNDERS, TIERS

TIER_CHOICES = [SelectChoice(tier, "VIP" if tier == "vip" else tier.capitalize()) for tier in TIERS]
FUNDER_CHOICES = [SelectChoice(funder, funder.capitalize()) for funder in FUNDERS]


def _whole(label: str, low: int = 0):
    return IntegerField(label, validators=[InputRequired(), NumberRange(min=low)])


class TierRulesForm(FlaskForm):
    shopper_min_orders = _whole("Shopper: completed orders", 1)
    vip_min_orders = _whole("VIP: completed orders in the window (0: not by orders)")
    vip_min_spend_cents = _whole("VIP: spend in the window, in cents (0: not by spend)")
    window_days = _whole("Window (days)", 1)
    vip_grace_days = _whole("VIP kept after it was last earned (days)")
    manual_grant_days = _whole("A manual grant lasts (days)", 1)
    vip_rebate_bp = _whole("VIP rebate (basis points; 500 = 5%)")
    vip_free_shipping = BooleanField("VIP free shipping")
    free_shipping_funded_by = SelectField("Free shipping is paid by", choices=FUNDER_CHOICES)
    rebate_funded_by = SelectField("The rebate is paid by", choices=FUNDER_CHOICES)
    points_per_unit = _whole("Points worth 1.00 at checkout", 1)
    points_expire_days = _whole("Points expire after (days)", 1)


class PointsRuleForm(FlaskForm):
    rule = StringField(validators=[DataRequired(), Length(max=32)])
    points = _whole("Points")
    daily_cap = IntegerField("Daily cap", validators=[Optional(), NumberRange(min=1)])
    active = BooleanField("On")


class GrantForm(FlaskForm):
    username = StringField("Member", validators=[DataRequired(), Length(max=64)])
    tier = SelectField("Tier", choices=TIER_CHOICES)
    reason = StringField("Reason", validators=[DataRequired(), Length(max=160)])


class AdjustForm(FlaskForm):
    username = StringField("Member", validators=[DataRequired(), Length(max=64)])
    account = SelectField(
        "What",
        choices=[SelectChoice("credit", "Store credit (cents)"), SelectChoice("points", "Points")],
    )
    amount = IntegerField("Amount (negative takes away)", validators=[InputRequired()])
    reason = StringField("Reason", validators=[DataRequired(), Length(max=60)])


class CheckInForm(FlaskForm):
    pass
