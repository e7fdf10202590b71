from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional


class MessageForm(FlaskForm):
    # The service enforces the configured maximum (CHAT_MAX_MESSAGE_LENGTH) with a clear error.
    body = TextAreaField("Message", validators=[DataRequired(message="Write a message first.")])


class RoomForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(2, 80)])
    topic = StringField("Topic", validators=[Optional(), Length(max=200)])
    public = BooleanField("Public room (listed for everyone)")
    slug = StringField("Address", validators=[Optional(), Length(max=48)])
    members = StringField("Members", validators=[Optional(), Length(max=2000)])


class UsernameForm(FlaskForm):
    username = StringField("Member", validators=[DataRequired(), Length(max=64)])


class MuteForm(FlaskForm):
    username = StringField("Member", validators=[DataRequired(), Length(max=64)])
    minutes = IntegerField(
        "Minutes", validators=[DataRequired(), NumberRange(1, 10_080)], default=10
    )
    reason = StringField("Reason", validators=[Optional(), Length(max=200)])
