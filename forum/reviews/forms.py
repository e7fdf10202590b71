from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    IntegerField,
    MultipleFileField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..moderation.models import FLAG_REASONS

STARS = [SelectChoice(str(n), f"{n} star{'s' if n > 1 else ''}") for n in range(5, 0, -1)]


class ReviewForm(FlaskForm):
    product_id = HiddenField()
    rating = RadioField("Your rating", choices=STARS, validators=[InputRequired()])
    title = StringField("Title", validators=[DataRequired(), Length(3, 120)])
    body = TextAreaField("Your review", validators=[DataRequired(), Length(max=10_000)])
    photos = MultipleFileField("Photos (up to 6)")


class EditReviewForm(FlaskForm):
    rating = RadioField("Your rating", choices=STARS, validators=[InputRequired()])
    title = StringField("Title", validators=[DataRequired(), Length(3, 120)])
    body = TextAreaField("Your review", validators=[DataRequired(), Length(max=10_000)])


class ReplyForm(FlaskForm):
    body = TextAreaField("Reply publicly", validators=[DataRequired(), Length(max=4_000)])


class FlagForm(FlaskForm):
    reason = SelectField(
        "Reason", choices=[SelectChoice(r, r.replace("_", " ").capitalize()) for r in FLAG_REASONS]
    )
    note = StringField("Note", validators=[Optional(), Length(max=500)])


class ReasonForm(FlaskForm):
    reason = StringField("Reason", validators=[Optional(), Length(max=300)])


class ActionForm(FlaskForm):
    """A button that posts nothing but its CSRF token (helpful, delete, approve)."""


class ReportForm(FlaskForm):
    order_item = SelectField("The purchase it is about", coerce=int, validate_choice=False)
    title = StringField("Title", validators=[DataRequired(), Length(3, 200)])
    body = TextAreaField("Your experience", validators=[DataRequired(), Length(max=50_000)])


class TopUpForm(FlaskForm):
    review_points = IntegerField("Extra points per review", validators=[NumberRange(0, 10_000)])
    review_credit_cents = IntegerField(
        "Extra store credit per review (cents)", validators=[NumberRange(0, 10_000)]
    )
    report_points = IntegerField("Extra points per report", validators=[NumberRange(0, 10_000)])
    report_credit_cents = IntegerField(
        "Extra store credit per report (cents)", validators=[NumberRange(0, 10_000)]
    )
