"""Small pieces every HTML blueprint shares."""

from flask import request

from .errors import ServiceError


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
