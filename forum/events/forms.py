"""HTML forms. They only parse; the service decides what is valid.

Times are typed in the viewer's own zone (``datetime-local``) and handed to the
service as aware datetimes.
"""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateTimeLocalField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from .models import COVER_COLOURS

LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


class EventForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(3, 200)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=20_000)])
    starts_at = DateTimeLocalField("Starts", format=LOCAL_FORMATS, validators=[DataRequired()])
    ends_at = DateTimeLocalField("Ends", format=LOCAL_FORMATS, validators=[DataRequired()])
    location = StringField("Place", validators=[Optional(), Length(max=300)])
    online_url = StringField("Online link", validators=[Optional(), Length(max=500)])
    capacity = IntegerField("Seats", validators=[Optional()])
    signup_deadline = DateTimeLocalField(
        "Sign-ups close", format=LOCAL_FORMATS, validators=[Optional()]
    )
    sponsor_id = SelectField("Sponsor", coerce=int, validate_choice=False)
    cover_colour = SelectField("Cover colour", validate_choice=False)
    cover_image = FileField("Cover image")
    discussion_category = SelectField("Discussion thread", validate_choice=False)


def colour_choices() -> list[tuple[str, str]]:
    # Given after construction: wtforms 3.3 deprecates tuple choices in the constructor.
    return [(colour, colour.title()) for colour in COVER_COLOURS]


class MessageForm(FlaskForm):
    body = TextAreaField(
        "Message to all participants", validators=[DataRequired(), Length(max=2000)]
    )


class CheckInForm(FlaskForm):
    code = StringField("Check-in code", validators=[DataRequired(), Length(max=32)])
