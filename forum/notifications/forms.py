"""The notification settings form: per type, shown in the bell (ours) and email
(campaigns' choices), built from the two tables so a new type needs no form change."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField
from wtforms.fields.choices import SelectChoice

from ..campaigns import service as campaigns
from .service import TYPES

EMAIL_LABELS = {"instant": "Email at once", "digest": "In the digest", "off": "No email"}


def settings_rows() -> list[tuple[str, str, bool, bool]]:
    """``(type, label, has_in_app, has_email)`` for every type either side knows."""
    labels = {type_: label for type_, (label, _kinds) in TYPES.items()}
    for kind, label in campaigns.NOTIFICATION_KINDS.items():
        labels.setdefault(kind, label)
    return [
        (type_, label, type_ in TYPES, type_ in campaigns.NOTIFICATION_KINDS)
        for type_, label in labels.items()
    ]


class NotificationSettingsForm(FlaskForm):
    pass


for _type, _label, _in_app, _email in settings_rows():
    if _in_app:
        setattr(NotificationSettingsForm, f"app_{_type}", BooleanField("In the bell"))
    if _email:
        setattr(
            NotificationSettingsForm,
            f"email_{_type}",
            SelectField(
                "Email",
                choices=[SelectChoice(c, EMAIL_LABELS.get(c, c)) for c in campaigns.PREF_CHOICES],
            ),
        )
