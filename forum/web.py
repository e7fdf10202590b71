"""Small pieces every HTML blueprint shares."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import request

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


def safe_next(default: str) -> str:
    """``?next=`` when it is a path on this site ("/x", never "//evil" or "/\\evil")."""
    target = request.args.get("next", "")
    if target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return default


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


def form_status(form) -> int:
    """422 for a submitted form that is being shown again with errors, else 200."""
    return 422 if form.is_submitted() else 200
