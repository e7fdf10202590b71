"""Small pieces every HTML blueprint shares."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from flask import request, session

from .errors import ServiceError
from .extensions import db


def apply_service_error(form, err: ServiceError) -> None:
    """Show a service's refusal on the form: on its fields, else at the top."""
    placed = False
    for name, messages in err.fields.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = list(field.errors) + list(messages)
            placed = True
    if not placed:
        form.form_errors.append(err.message)


def safe_target(target: str | None, default: str, *, allow_absolute: bool = False) -> str:
    """``target`` as a path on this site when it is one, else ``default``.

    The one check for every redirect to a user-supplied place (``?next=``, the
    Referer). Browsers drop tabs and newlines and read ``\\`` as ``/``, so
    ``/\t/evil.example`` or ``/\\evil.example`` would leave the site: any control
    character, whitespace or backslash refuses the target, as does anything with a
    scheme or a host, unless ``allow_absolute`` and it is this very host (a Referer).
    The answer is always a path ("/x?y#z"), never an absolute URL.
    """
    if not isinstance(target, str) or not target or len(target) > 2048:
        return default
    if "\\" in target or any(ord(char) <= 0x20 or ord(char) == 0x7F for char in target):
        return default
    try:
        parts = urlsplit(target)
    except ValueError:
        return default
    if parts.scheme or parts.netloc:
        same_host = parts.scheme in ("http", "https") and parts.netloc == request.host
        if not (allow_absolute and same_host):
            return default
    elif not target.startswith("/"):
        return default
    path = parts.path or "/"
    if not path.startswith("/") or path.startswith("//"):
        return default
    return urlunsplit(("", "", path, parts.query, parts.fragment))


def safe_next(default: str) -> str:
    """``?next=`` when it is a path on this site, else ``default``."""
    return safe_target(request.args.get("next"), default)


def safe_referrer(default: str) -> str:
    """The page the request came from when it is on this site, else ``default``."""
    return safe_target(request.referrer, default, allow_absolute=True)


@dataclass(frozen=True)
class Done:
    value: Any = None


def run_form(
    form,
    action: Callable[[], Any],
    *,
    show_error: Callable[[Any, ServiceError], None] = apply_service_error,
) -> Done | None:
    """When ``form`` validates, run the service ``action`` and commit.

    Returns ``Done(result)`` on success; None when the form is not submitted or
    not valid, or when the service refused (the transaction is rolled back and
    ``show_error(form, err)`` shows the refusal on the form; it may raise ``err``
    again to leave that refusal to the error pages).
    """
    if not form.validate_on_submit():
        return None
    try:
        result = action()
    except ServiceError as err:
        db.session.rollback()
        show_error(form, err)
        return None
    db.session.commit()
    return Done(result)


def form_values(form, *names: str) -> dict[str, Any]:
    """``{name: form[name].data}`` for each field name: the fields a service takes as
    keyword arguments by the same names."""
    return {name: form[name].data for name in names}


def form_status(form) -> int:
    """422 for a submitted form that is being shown again with errors, else 200."""
    return 422 if form.is_submitted() else 200


# A coupon code the reader brought along (a campaign letter's link): the checkout form
# starts with it filled in. Only a prefill: whether it applies is the coupon's rules,
# checked at checkout for whoever is buying; the reader can remove it.
BROUGHT_COUPON_KEY = "brought_coupon"


def bring_coupon(code: str | None) -> None:
    code = (code or "").strip()
    if code and len(code) <= 64 and code.isprintable():
        session[BROUGHT_COUPON_KEY] = code


def brought_coupon() -> str:
    code = session.get(BROUGHT_COUPON_KEY)
    return code if isinstance(code, str) else ""


def drop_brought_coupon() -> None:
    session.pop(BROUGHT_COUPON_KEY, None)
