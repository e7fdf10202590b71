"""Money: an amount in a currency's minor units, typed and shown in the viewer's locale.

Stored amounts are whole minor units (``price_cents``: cents for USD, yen for JPY,
fils for KWD) plus an ISO 4217 code; how many decimals a currency has comes from
Babel (CLDR), for every currency, never from a table of our own. Typing follows the
viewer's locale for the decimal and group separators ("12,50" is 12.50 in German;
in American English it is ambiguous, so it is refused with a clear error rather
than read as 1,250); an amount with more decimals than the currency has is refused
too (a JPY price of "500.5", a USD price of "12.345").
"""

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Annotated

from babel import Locale, UnknownLocaleError
from babel.numbers import (
    NumberFormatError,
    format_currency,
    get_currency_precision,
    get_decimal_symbol,
    get_group_symbol,
    get_minus_sign_symbol,
    is_currency,
    parse_decimal,
)
from pydantic import Field
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

DEFAULT_LOCALE = "en_US"

# What the JSON API takes for money (``price_cents``, ``group_price_cents``...): whole
# minor units of the currency, never a float or a decimal string. Ranges are the services'.
MinorUnits = Annotated[
    int,
    Field(
        ge=-(2**31),
        le=2**31 - 1,  # the integer columns' range (forum/schemas.py DbInt)
        description="Whole minor units of the currency: cents for USD and EUR, yen for "
        "JPY (no decimals), fils for KWD (three); see ISO 4217.",
    ),
]
_SPACES = (" ", "\xa0", "\u202f")
LocaleArg = Locale | str | None  # a Locale, a tag such as "de_DE" or "de-DE", None: the viewer's


class MoneyError(ValueError):
    """An amount that cannot be read; ``str()`` is the message for the person who typed it."""


def precision(currency: str) -> int:
    """Decimals of ``currency``'s minor unit: 2 for USD, 0 for JPY, 3 for KWD."""
    return get_currency_precision(currency)


def known_currency(code: object) -> bool:
    return isinstance(code, str) and len(code) == 3 and code.isupper() and is_currency(code)


def locale_of(value: Locale | str | None) -> Locale:
    if isinstance(value, Locale):
        return value
    try:
        return Locale.parse((value or DEFAULT_LOCALE).replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse(DEFAULT_LOCALE)


def viewer_locale() -> Locale:
    """The locale of the person looking: their browser's first language Babel knows."""
    from flask import has_request_context, request

    if has_request_context():
        return locale_for_languages(request.headers.get("Accept-Language", ""))
    return Locale.parse(DEFAULT_LOCALE)


# Browsers send a handful of distinct headers; parsing one costs more than the page-cache
# hit it keys. The bound keeps a client cycling made-up headers from growing memory.
@lru_cache(maxsize=256)
def locale_for_languages(header: str) -> Locale:
    """The first language of an Accept-Language ``header`` that Babel knows (en_US if none)."""
    for language, _quality in parse_accept_header(header, LanguageAccept):
        if language == "*":
            continue
        try:
            locale = Locale.parse(language.replace("-", "_"))
        except (UnknownLocaleError, ValueError):
            continue
        if not locale.territory and language.lower().startswith("en"):
            return Locale.parse(DEFAULT_LOCALE)
        return locale
    return Locale.parse(DEFAULT_LOCALE)


@dataclass(frozen=True)
class Money:
    minor: int  # whole minor units of ``currency``
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.minor, bool) or not isinstance(self.minor, int):
            raise TypeError("Money is whole minor units")
        if not known_currency(self.currency):
            raise MoneyError(f"{self.currency!r} is not an ISO 4217 currency.")

    @property
    def amount(self) -> Decimal:
        return Decimal(self.minor).scaleb(-precision(self.currency))

    @classmethod
    def parse(cls, text: str, currency: str, locale: LocaleArg = None) -> "Money":
        """Read ``text`` typed in ``locale`` as an amount of ``currency``. Raises MoneyError."""
        locale = locale_of(locale) if locale is not None else viewer_locale()
        if not known_currency(currency):
            raise MoneyError(f"{currency!r} is not an ISO 4217 currency.")
        raw = (text or "").strip()
        if not raw:
            raise MoneyError("Type an amount.")
        decimal_sign = get_decimal_symbol(locale)
        group = get_group_symbol(locale)
        if group in _SPACES:  # "1 234,50" typed with an ordinary space
            raw = re.sub("[ \xa0\u202f]", group, raw)
        allowed = set("0123456789+-") | {decimal_sign, group, get_minus_sign_symbol(locale)}
        example = cls(12 * 10 ** precision(currency) + (50 if precision(currency) else 0), currency)
        if not set(raw) <= allowed:
            raise MoneyError(f"Type an amount like {example.plain(locale)}.")
        try:
            value = parse_decimal(raw, locale=locale, strict=True)
        except NumberFormatError:
            raise MoneyError(
                f"“{text.strip()}” is ambiguous here: the decimal separator is “{decimal_sign}”"
                + (f" and “{group}” separates thousands" if group not in _SPACES else "")
                + f". Type it like {example.plain(locale)}."
            ) from None
        except InvalidOperation:  # pragma: no cover - babel raises NumberFormatError
            raise MoneyError(f"Type an amount like {example.plain(locale)}.") from None
        if not value.is_finite():
            raise MoneyError(f"Type an amount like {example.plain(locale)}.")
        digits = precision(currency)
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -digits:
            raise MoneyError(
                f"{currency} has no decimals: type a whole amount."
                if digits == 0
                else f"{currency} has {digits} decimals: use at most {digits}."
            )
        return cls(int(value.scaleb(digits)), currency)

    def format(self, locale: LocaleArg = None) -> str:
        """With its symbol, as ``locale`` writes it: $1,250.00, 1.250,00 €, ¥500."""
        locale = locale_of(locale) if locale is not None else viewer_locale()
        return format_currency(self.amount, self.currency, locale=locale, currency_digits=True)

    def plain(self, locale: LocaleArg = None) -> str:
        """The number alone, as it would be typed back into a form: 1250.00, 1250,00, 500."""
        locale = locale_of(locale) if locale is not None else viewer_locale()
        return format_currency(
            self.amount, self.currency, format="0.0", locale=locale, currency_digits=True
        )


def format_minor(minor: int | None, currency: str, locale: LocaleArg = None) -> str:
    """The ``money`` filter: ``minor`` units of ``currency`` for the viewer ("" for None)."""
    if minor is None:
        return ""
    return Money(int(minor), (currency or "USD").upper()).format(locale)
