"""Times typed or sent by people: the one parser every feature's forms, API bodies and
sockets use, so a time means the same thing and fails with the same message everywhere."""

from datetime import UTC, datetime

from .errors import field_error

EXAMPLE = "2030-06-01T18:00:00+02:00"


def parse_time(field: str, value: object, *, required: bool = True) -> datetime | None:
    """An aware UTC datetime (whole seconds) from a datetime or an ISO 8601 string with an offset.

    Empty input is None, or a ``field`` error when ``required``. A time without a UTC
    offset is refused rather than guessed. Raises ValidationFailed keyed by ``field``.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise field_error(field, "This time is required.")
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise field_error(
                field, f"Use an ISO 8601 time with an offset, e.g. {EXAMPLE}."
            ) from None
    if not isinstance(value, datetime):
        raise field_error(field, "Use an ISO 8601 time with an offset.")
    if value.tzinfo is None or value.utcoffset() is None:
        raise field_error(
            field, "Include a UTC offset (e.g. +02:00 or Z) so the time is not ambiguous."
        )
    # Whole seconds: what iCalendar can carry, so every export says exactly what we store.
    return value.astimezone(UTC).replace(microsecond=0)
