from flask_wtf import FlaskForm
from wtforms import DecimalField, IntegerField, SelectField
from wtforms.validators import InputRequired, NumberRange

from .models import MODELS

try:  # wtforms >= 3.3 wants SelectChoice; older releases take (value, label) pairs
    from wtforms.fields.choices import SelectChoice
except ImportError:  # pragma: no cover

    def SelectChoice(value, label):  # noqa: N802
        return (value, label)


MODEL_LABELS = {
    "last": "Last touch",
    "first": "First touch",
    "linear": "Linear (equal shares)",
    "decay": "Time decay (recent touches count more)",
    "position": "Position-based (40% first, 40% last, 20% between)",
}
CURRENCIES = ("USD", "EUR", "GBP", "CNY", "JPY")


def _money(label: str) -> DecimalField:
    return DecimalField(label, places=2, validators=[InputRequired(), NumberRange(0, 100_000)])


class SettingsForm(FlaskForm):
    """Percent and currency units on the page; basis points and cents in the service."""

    cps_rate_percent = DecimalField(
        "Commission per sale (%)", places=2, validators=[InputRequired(), NumberRange(0, 100)]
    )
    cpa_signup = _money("Per new member sign-up")
    cpa_event_signup = _money("Per event sign-up")
    cpa_team_join = _money("Per group-buy team join")
    cpa_first_purchase = _money("Per first purchase")
    model = SelectField("Credit model", choices=[SelectChoice(m, MODEL_LABELS[m]) for m in MODELS])
    currency = SelectField("Currency", choices=list(CURRENCIES))


class PayoutForm(FlaskForm):
    merchant_id = IntegerField(validators=[InputRequired(), NumberRange(1)])
