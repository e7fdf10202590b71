from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class ThreadForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(3, 200)])
    body = TextAreaField("Message", validators=[DataRequired(), Length(max=50_000)])


class ReplyForm(FlaskForm):
    body = TextAreaField("Your reply", validators=[DataRequired(), Length(max=50_000)])
    reply_to = IntegerField(validators=[Optional()])


class TitleForm(FlaskForm):
    # Lengths are the service's (check_title); the form only carries them.
    title = StringField("Title")
    reason = StringField("Reason (a moderator renaming another's thread; the author sees it)")


class EditForm(FlaskForm):
    body = TextAreaField("Message", validators=[DataRequired(), Length(max=50_000)])


class CategoryForm(FlaskForm):
    slug = StringField("Slug", validators=[DataRequired(), Length(2, 48)])
    name = StringField("Name", validators=[DataRequired(), Length(2, 80)])
    description = TextAreaField("Description", validators=[Length(max=500)])


class MoveForm(FlaskForm):
    category = SelectField("Move to", validate_choice=False)
