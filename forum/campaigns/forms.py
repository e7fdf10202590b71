"""Page forms (types and lengths only; the rules are the service's)."""

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from .service import FIELDS, NOTIFICATION_KINDS, OPS

CONDITION_ROWS = 4


class ForgotForm(FlaskForm):
    email = EmailField("Your account's email", validators=[DataRequired(), Length(max=254)])


class ResetForm(FlaskForm):
    password = PasswordField("New password", validators=[DataRequired(), Length(max=256)])


class EmailChangeForm(FlaskForm):
    email = EmailField("New email address", validators=[DataRequired(), Length(max=254)])


class PhoneForm(FlaskForm):
    phone = StringField("Mobile number (international, +...)", validators=[Length(max=20)])


class PhoneCodeForm(FlaskForm):
    code = StringField("Code from the SMS", validators=[DataRequired(), Length(max=12)])


CHOICES = [
    SelectChoice("instant", "Email at once"),
    SelectChoice("digest", "In the digest"),
    SelectChoice("off", "No email"),
]


def with_notification_fields(form_class):
    """Adds a "notify_<kind>" choice per notification kind (the kinds are the service's)."""
    for kind, label in NOTIFICATION_KINDS.items():
        setattr(form_class, f"notify_{kind}", SelectField(label, choices=CHOICES))
    return form_class


@with_notification_fields
class PreferencesForm(FlaskForm):
    marketing_email = BooleanField("Offers and news by email")
    marketing_sms = BooleanField("Offers by SMS (needs a verified number)")
    track_opens = BooleanField("Let Plaza see when I open a campaign email (a tracking image)")
    digest = SelectField(
        "Digest of what I missed",
        choices=[
            SelectChoice("off", "No digest"),
            SelectChoice("daily", "Daily"),
            SelectChoice("weekly", "Weekly"),
        ],
    )


def _with_condition_rows(form_class):
    """Adds CONDITION_ROWS rows of field, operator, value and window (c0_field...)."""
    field_choices = [SelectChoice("", "—")] + [
        SelectChoice(name, name.replace("_", " ")) for name in FIELDS
    ]
    for index in range(CONDITION_ROWS):
        setattr(form_class, f"c{index}_field", SelectField("Field", choices=field_choices))
        setattr(
            form_class,
            f"c{index}_op",
            SelectField("Operator", choices=[SelectChoice(op, op) for op in OPS]),
        )
        setattr(form_class, f"c{index}_value", StringField("Value", validators=[Length(max=500)]))
        setattr(
            form_class,
            f"c{index}_days",
            IntegerField("Window (days)", validators=[Optional(), NumberRange(1, 3650)]),
        )
    return form_class


@_with_condition_rows
class SegmentForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    match = SelectField(
        "Members matching", choices=[SelectChoice("all", "all of"), SelectChoice("any", "any of")]
    )
    rule_json = TextAreaField(
        "Or the rule as JSON (overrides the rows)", validators=[Optional(), Length(max=20_000)]
    )


class CampaignForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    channel = SelectField(
        "Channel", choices=[SelectChoice("email", "Email"), SelectChoice("sms", "SMS")]
    )
    segment_id = SelectField("Segment", coerce=int, choices=[])
    subject = StringField("Subject (email)", validators=[Length(max=200)])
    body = TextAreaField(
        "Message (Markdown for email; plain text for SMS)",
        validators=[DataRequired(), Length(max=20_000)],
    )
    coupon_code = StringField("Coupon code ({{coupon}})", validators=[Length(max=64)])
    holdout_bp = IntegerField(
        "Holdout (basis points: 1000 = 10%)", default=0, validators=[NumberRange(0, 5000)]
    )


class ScheduleForm(FlaskForm):
    scheduled_at = StringField("Send at (ISO 8601 with offset)", validators=[DataRequired()])


def _coerce(text: str):
    """A typed value from the form's text: true/false, whole numbers, comma lists."""
    text = (text or "").strip()
    if "," in text:
        return [_coerce(part) for part in text.split(",") if part.strip()]
    if text.lower() in ("true", "yes"):
        return True
    if text.lower() in ("false", "no"):
        return False
    if text.lstrip("-").isdigit() and len(text) < 12:
        return int(text)
    return text


def rule_from_form(form: SegmentForm):
    """The rule the form describes: its JSON when given (parsed, not trusted), else the rows."""
    import json

    if (form.rule_json.data or "").strip():
        try:
            return json.loads(form.rule_json.data)
        except ValueError:
            return {"invalid": "json"}
    conditions = []
    for index in range(CONDITION_ROWS):
        name = getattr(form, f"c{index}_field").data
        if not name:
            continue
        cond = {
            "field": name,
            "op": getattr(form, f"c{index}_op").data,
            "value": _coerce(getattr(form, f"c{index}_value").data),
        }
        if cond["op"] == "in" and not isinstance(cond["value"], list):
            cond["value"] = [cond["value"]]
        days = getattr(form, f"c{index}_days").data
        if days:
            cond["days"] = days
        conditions.append(cond)
    return {form.match.data: conditions}


def fill_segment_form(form: SegmentForm, rule: dict) -> None:
    """Show a saved rule: flat all/any rules fill the rows, others the JSON box."""
    import json

    key = "all" if "all" in rule else "any" if "any" in rule else None
    parts = rule.get(key, []) if key else []
    if key and len(parts) <= CONDITION_ROWS and all("field" in part for part in parts):
        form.match.data = key
        for index, cond in enumerate(parts):
            getattr(form, f"c{index}_field").data = cond["field"]
            getattr(form, f"c{index}_op").data = cond["op"]
            value = cond["value"]
            shown = (
                ",".join(map(str, value))
                if isinstance(value, list)
                else str(value).lower()
                if isinstance(value, bool)
                else str(value)
            )
            getattr(form, f"c{index}_value").data = shown
            getattr(form, f"c{index}_days").data = cond.get("days")
    else:
        form.rule_json.data = json.dumps(rule, indent=2)
