"""Form fields every feature's forms share (WTForms); rules stay in the services."""

from wtforms import StringField
from wtforms.validators import StopValidation

from . import money


class MoneyField(StringField):
    """An amount typed in the viewer's locale; ``data`` is whole minor units (None when empty).

    The currency is the form's ``currency`` field when it has one (the shop profile),
    else the form's ``money_currency`` attribute, set by the view (the shop's
    currency). Parsing and the error messages are ``forum.money.Money``'s. A value
    that cannot be read gets that one error and no other validator runs on it.
    ``max_minor`` caps the amount (the shop's ``MAX_PRICE_CENTS``).
    """

    def __init__(self, label=None, validators=None, *, max_minor: int, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.max_minor = max_minor

    def _currency(self, form) -> str:
        field = getattr(form, "currency", None)
        code = getattr(field, "data", None) if field is not None else None
        return code if money.known_currency(code) else getattr(form, "money_currency", "USD")

    def process_formdata(self, valuelist):
        self.data = None
        self.raw = (valuelist[0] if valuelist else "").strip()

    def pre_validate(self, form):
        self.data = None
        if not getattr(self, "raw", ""):
            return
        try:
            amount = money.Money.parse(self.raw, self._currency(form), money.viewer_locale())
        except money.MoneyError as err:
            raise StopValidation(str(err)) from None
        if abs(amount.minor) > self.max_minor:
            raise StopValidation("That amount is too large.")
        self.data = amount.minor

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        currency = self._currency(self._form) if self._form is not None else "USD"
        return money.Money(int(self.data), currency).plain(money.viewer_locale())
