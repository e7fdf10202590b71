from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from .schemas import (
    MUTE_MAX_MINUTES,
    NAME_MAX,
    NAME_MIN,
    NEW_SLUG_MAX,
    REASON_MAX,
    TOPIC_MAX,
    USERNAME_MAX,
)


class MessageForm(FlaskForm):
    # The service enforces the configured maximum (CHAT_MAX_MESSAGE_LENGTH) with a clear error.
    body = TextAreaField("Message", validators=[DataRequired(message="Write a message first.")])


class RoomForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(NAME_MIN, NAME_MAX)])
    topic = StringField("Topic", validators=[Optional(), Length(max=TOPIC_MAX)])
    public = BooleanField("Public room (listed for everyone)")
    slug = StringField("Address", validators=[Optional(), Length(max=NEW_SLUG_MAX)])
    members = StringField("Members", validators=[Optional(), Length(max=2000)])


class UsernameForm(FlaskForm):
    username = StringField("Member", validators=[DataRequired(), Length(max=USERNAME_MAX)])


class MuteForm(FlaskForm):
    username = StringField("Member", validators=[DataRequired(), Length(max=USERNAME_MAX)])
    minutes = IntegerField(
        "Minutes", validators=[DataRequired(), NumberRange(1, MUTE_MAX_MINUTES)], default=10
    )
    reason = StringField("Reason", validators=[DataRequired(), Length(max=REASON_MAX)])
