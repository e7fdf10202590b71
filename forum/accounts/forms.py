from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length
from wtforms.widgets import CheckboxInput, ListWidget


class RegisterForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(3, 32)])
    email = EmailField("Email", validators=[DataRequired(), Email()])
    password = PasswordField("Password", validators=[DataRequired(), Length(8, 256)])
    # Shown (and required) when the admins have written community guidelines.
    accept_guidelines = BooleanField("I have read and accept the community guidelines")


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])
    remember = BooleanField("Keep me logged in")


class ProfileForm(FlaskForm):
    bio = TextAreaField("About you", validators=[Length(max=1000)])
    timezone = SelectField("Time zone", validate_choice=False)


class PasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired()])
    new_password = PasswordField("New password", validators=[DataRequired(), Length(8, 256)])


class TokenForm(FlaskForm):
    name = StringField("Token name", validators=[DataRequired(), Length(1, 64)])
    # Choices (read, write, merchant for merchants) are set by the view; the service checks.
    scopes = SelectMultipleField(
        "Scopes",
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validate_choice=False,
    )


class AvatarForm(FlaskForm):
    avatar = FileField("Picture", validators=[FileRequired("Choose a picture.")])
