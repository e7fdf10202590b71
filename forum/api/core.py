"""Declaring API endpoints: validation, auth, errors and the OpenAPI registry."""

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from flask import current_app, jsonify, request
from flask_login import current_user
from pydantic import BaseModel, TypeAdapter

from .. import jsonbody
from ..errors import Forbidden, NotAuthenticated, ServiceError, ValidationFailed
from ..extensions import db, limiter
from ..pagination import MAX_LIMIT, limit_from
from ..permissions import acting_user
from ..schemas import MAX_DB_INT, validate

API_MODULES = (
    "accounts",
    "board",
    "meta",
    "events",
    "shop",
    "chat",
    "promotions",
    "games",
    "attribution",
    "members",
    "coupons",
    "reviews",
    "campaigns",
    "moderation",
    "trust",
    "search",
    "attachments",
    "insight",
    "recommend",
    "social",
)

# path -> method -> operation (OpenAPI 3.1)
OPERATIONS: dict[str, dict[str, dict]] = {}
SCHEMAS: dict[str, dict] = {}

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
        }
    },
}


def _json_body() -> dict:
    raw = request.get_data(cache=True)
    if not raw:
        return {}
    if not request.is_json:
        raise ValidationFailed("The body is not valid JSON.", code="invalid_json")
    try:
        data = jsonbody.loads(raw)
    except jsonbody.TooDeep as exc:
        raise ServiceError(str(exc), code="invalid_json") from None
    except ValueError:
        raise ValidationFailed("The body is not valid JSON.", code="invalid_json") from None
    if not isinstance(data, dict):
        raise ValidationFailed("The body must be a JSON object.", code="invalid_json")
    return data


# The query of a paged list (``query=PAGE``), read with ``page_args()``.
PAGE = ("cursor", "limit")
# The days a report covers (``query=DAY_RANGE``), read with ``day_range()``.
DAY_RANGE = ("from", "to")

# Query parameters by name, with their real types (an endpoint may give its own).
QUERY_PARAMETERS: dict[str, dict] = {
    "cursor": {"type": "string"},
    "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
    "before": {"type": "integer", "minimum": 0, "maximum": MAX_DB_INT},
    "q": {"type": "string"},
    "from": {"type": "string", "format": "date"},
    "to": {"type": "string", "format": "date"},
}


def page_args() -> dict[str, Any]:
    """``cursor`` and ``limit`` of a list request (``query=PAGE``), as the keyword
    arguments a service's list function takes; a bad limit is a 422 field error."""
    return {"cursor": request.args.get("cursor"), "limit": limit_from(request.args.get("limit"))}


def day_range() -> tuple[str | None, str | None]:
    """``from`` and ``to`` of a report request (``query=DAY_RANGE``) as given: the
    service parses them and chooses the default period."""
    return request.args.get("from"), request.args.get("to")


def idempotency_key() -> str | None:
    """The request's Idempotency-Key: the service answers a repeat with the first result."""
    return request.headers.get("Idempotency-Key")


def shipping_address(data: Any) -> dict | None:
    """A body's optional ``shipping_address``, as the dict the shop's services take."""
    return data.shipping_address.model_dump() if data.shipping_address else None


def order_through(act: Callable[..., Any], offer: Any, data: Any, *args: Any) -> Any:
    """``act(caller, offer, *args)`` for an offer that places the caller's order (a team,
    a snap-up, an auction), with the request's Idempotency-Key and the body's shipping
    address, as each of them takes; answers what ``act`` does (its result, replayed)."""
    return act(
        acting_user(),
        offer,
        *args,
        idempotency_key=idempotency_key(),
        shipping_address=shipping_address(data),
    )


def _schema_ref(model, mode: Literal["validation", "serialization"] = "validation") -> dict:
    """Register ``model``'s JSON schema (and its parts) as components; a reference to it.
    ``model`` may also be a type such as ``list[Category]``: its schema is inlined."""
    schema = TypeAdapter(model).json_schema(
        ref_template="#/components/schemas/{model}", mode=mode, by_alias=True
    )
    for name, definition in schema.pop("$defs", {}).items():
        SCHEMAS[name] = definition
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return schema
    SCHEMAS[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


# What every endpoint that places the caller's order (an order, a checkout, a team's, a
# snap-up's, an auction unit's) declares, as ``@endpoint(rule, ..., **PLACES_ORDER)``: a
# POST honouring Idempotency-Key, answered 201 (a replay with the first result), 409 when
# the stock, the offer or the order refuses, 429 for the pending-order limits.
PLACES_ORDER: dict[str, Any] = {"method": "POST", "status": 201, "errors": (409, 429)}


def endpoints(bp, *, tag: str, **shared: Any) -> Callable[..., Any]:
    """``endpoint`` with one module's blueprint and OpenAPI tag said once, and what a
    family of its endpoints shares (``auth``, ``errors``, ``response``...; a declaration
    may still give its own)::

    endpoint = endpoints(bp, tag="shop")

    @endpoint("/orders/<int:order_id>/ship", "POST", body=ShipBody, response=responses.Order)
    def ship_order(order_id: int, data: ShipBody):
        '''Mark a paid order shipped (its merchant, admin)'''
    """
    return functools.partial(endpoint, bp, tag=tag, **shared)


def endpoint(
    bp,
    rule: str,
    method: str,
    *,
    summary: str = "",
    auth: str = "user",  # "anyone" | "user" | a role name
    body: type[BaseModel] | None = None,
    status: int | None = None,
    errors: tuple[int, ...] = (),
    query: tuple[str | tuple[str, dict], ...] = (),
    tag: str = "",
    limits: tuple[str, ...] = (),
    response: Any = None,
    operation_id: str = "",
):
    """Register ``func`` on ``bp`` and in the OpenAPI document, as the endpoint and
    operation ``operation_id`` (by default the function's name). The operation's
    summary is the first paragraph of ``func``'s docstring (``summary`` overrides it,
    for endpoints made by a factory).

    ``errors`` lists only the error statuses the declaration does not imply; these it
    documents itself: 400 and 503 always; 401 with ``auth`` other than ``"anyone"``, and
    403 too for a role or a write (a cookie session's CSRF check); 404 for a path
    parameter; 422 for ``body`` or ``query``; 429 for ``limits``.

    ``limits`` names config settings holding Flask-Limiter specs (per client
    address, e.g. ``("LOGIN_LIMIT_PER_IP",)``); they wrap the view that is
    registered, so they apply, and the operation documents its 429.

    ``response`` is the pydantic model (forum/api/responses/) the result is
    validated and serialised through; the document publishes its schema. Without
    one the endpoint answers nothing: ``status`` is then 204 unless given (200 else).
    ``query`` names parameters (types from QUERY_PARAMETERS) or gives
    ``(name, json_schema)``.

    ``func`` receives the validated body as ``data`` when ``body`` is given,
    returns a JSON-able value (sent with ``status``), an ``Idempotent`` or a
    Response. A
    ServiceError rolls the transaction back and becomes its 4xx JSON error; on
    success the transaction is committed.
    """

    shape = TypeAdapter(response) if response is not None else None
    if status is None:
        status = 204 if response is None else 200

    def out(result):
        if shape is None:
            return result
        return shape.dump_python(
            shape.validate_python(result), mode="json", by_alias=True, exclude_unset=True
        )

    def decorate(func: Callable[..., Any]):
        operation_name = operation_id or func.__name__
        operation_summary = summary or _first_paragraph(func)
        if not operation_summary:
            raise TypeError(f"{operation_name}: say what the endpoint does in its docstring")

        @functools.wraps(func)
        def view(**kwargs: Any) -> Any:
            if auth != "anyone":
                if not current_user.is_authenticated:
                    raise NotAuthenticated()
                if auth != "user" and not current_user.has_role(auth):
                    raise Forbidden(f"This needs the {auth} role.")
            if body is not None:
                kwargs["data"] = validate(body, _json_body())
            try:
                result = func(**kwargs)
                if isinstance(result, Idempotent) and callable(result.payload):
                    _commit_keeping_loaded()
                else:
                    db.session.commit()
            except ServiceError:
                db.session.rollback()
                raise
            if isinstance(result, current_app.response_class):
                return result
            if result is None:
                return "", status
            if isinstance(result, Idempotent):
                payload = result.payload() if callable(result.payload) else result.payload
                answer = jsonify(out(payload))
                answer.status_code = result.status
                if result.replayed:
                    answer.headers["Idempotent-Replayed"] = "true"
                return answer
            return jsonify(out(result)), status

        for setting in limits:
            view = limiter.limit(_setting(setting))(view)  # type: ignore[assignment]
        view.rate_limits = tuple(limits)
        view.plaza_auth = auth  # type: ignore[attr-defined]  # read by the token scope check
        bp.add_url_rule(rule, endpoint=operation_name, view_func=view, methods=[method])
        # 400: a NUL character anywhere (forum/http.py), a body that is not JSON or nests too deep.
        # 503: the database is unreachable for a moment (forum/http.py, with Retry-After).
        documented = (*errors, 400, 429, 503) if limits else (*errors, 400, 503)
        if "<" in rule:
            documented = (*documented, 404)  # nothing there, or not for the caller
        if body is not None:
            documented = (*documented, 422)  # fields not valid
        if query:
            documented = (*documented, 422)
        openapi_path = "/api/v1" + rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
        success: dict[str, Any] = {"description": "OK"}
        if response is not None:
            success["content"] = {
                "application/json": {"schema": _schema_ref(response, "serialization")}
            }
        operation: dict[str, Any] = {
            "summary": operation_summary,
            "operationId": operation_name,
            "tags": [tag] if tag else [],
            "responses": {str(status): success},
        }
        if auth != "anyone":
            operation["security"] = [{"bearer": []}, {"session": []}]
            # 403: a role the caller lacks, or a cookie session's write without its CSRF token.
            refusable = auth != "user" or method.upper() not in ("GET", "HEAD")
            errors_all = (401, 403, *documented) if refusable else (401, *documented)
        else:
            errors_all = documented
        for code in sorted(set(errors_all)):
            operation["responses"][str(code)] = {
                "description": "Error",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
        params = [
            {
                "name": name.split("<")[0],
                "in": "path",
                "required": True,
                "schema": {"type": "integer", "minimum": 0, "maximum": MAX_DB_INT}
                if "int:" in part
                else {"type": "string"},
            }
            for part in rule.split("/")
            if part.startswith("<")
            for name in [part.strip("<>").split(":")[-1]]
        ]
        for item in query:
            name, schema = item if isinstance(item, tuple) else (item, QUERY_PARAMETERS[item])
            params.append({"name": name, "in": "query", "required": False, "schema": schema})
        if params:
            operation["parameters"] = params
        if body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": _schema_ref(body)}},
            }
        OPERATIONS.setdefault(openapi_path, {})[method.lower()] = operation
        return view

    return decorate


def _first_paragraph(func: Callable[..., Any]) -> str:
    """A docstring's first paragraph on one line (as flask-smorest reads a summary)."""
    return " ".join((inspect.getdoc(func) or "").split("\n\n")[0].split())


def _setting(name: str) -> Callable[[], str]:
    def spec() -> str:
        return current_app.config[name]

    spec.__name__ = name
    return spec


@dataclass(frozen=True)
class Idempotent:
    """A result answered with ``status``; a repeated Idempotency-Key adds
    ``Idempotent-Replayed: true`` (the payload still goes through the response model).
    A callable ``payload`` is called after the commit (see ``idempotent_response``)."""

    payload: dict | Callable[[], dict]
    replayed: bool
    status: int = 201


def idempotent_response(
    payload: dict | Callable[[], dict], replayed: bool, status: int = 201
) -> Idempotent:
    """The answer of an endpoint that honours Idempotency-Key. ``payload`` may be a
    function that builds it: it runs after the commit, so its reads and its serialising
    do not happen while the transaction holds its row locks (a snap-up sale holds the
    product's row, which every buyer of the rush waits for). The objects it dumps stay
    as the transaction left them (the commit does not expire them); what was not loaded
    is read afresh."""
    return Idempotent(payload, replayed, status)


def _commit_keeping_loaded() -> None:
    """Commit without expiring what the session holds (a dump after the commit then reads
    only what was never loaded, not every row again)."""
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


def openapi_document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Plaza API", "version": "1.0.0"},
        "servers": [{"url": "/"}],
        "paths": OPERATIONS,
        "components": {
            "schemas": {"Error": ERROR_SCHEMA, **SCHEMAS},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
        },
    }
