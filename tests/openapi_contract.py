"""Every /api/v1 response the test suite produces is checked against /api/v1/openapi.json.

A pytest plugin (``pytest_plugins`` in tests/conftest.py): an autouse fixture listens
to Flask's ``request_finished`` signal and, for each API request that reached an
endpoint, checks that the status code is documented for the operation and that the
JSON body matches the documented schema (jsonschema_rs, compiled once per response).
A mismatch fails the test that made the request, naming the operation and the error.
"""

import functools

import jsonschema_rs
import pytest
from flask import request, request_finished

from forum.api.core import openapi_document

API = "api."


@functools.cache
def _operations() -> dict[str, tuple[str, str, dict]]:
    doc = openapi_document()
    return {
        op["operationId"]: (method, path, op)
        for path, methods in doc["paths"].items()
        for method, op in methods.items()
    }


@functools.cache
def _validator(operation_id: str, status: str):
    doc = openapi_document()
    _, _, op = _operations()[operation_id]
    content = op["responses"][status].get("content")
    if not content:
        return None
    schema = content["application/json"]["schema"]
    root = {**schema, "components": doc["components"]}
    return jsonschema_rs.Draft202012Validator(root)


class ContractViolation(AssertionError):
    pass


def check_response(response) -> None:
    endpoint = request.endpoint or ""
    if not endpoint.startswith(API):
        return
    operation_id = endpoint.removeprefix(API)
    if operation_id not in _operations():
        return
    method, path, op = _operations()[operation_id]
    status = str(response.status_code)
    where = f"{method.upper()} {path} -> {status}"
    if status not in op["responses"]:
        body = response.get_data(as_text=True)[:300]
        raise ContractViolation(f"{where}: status not documented ({body})")
    validator = _validator(operation_id, status)
    if validator is None:
        if response.get_data():
            raise ContractViolation(f"{where}: documented without a body but sent one")
        return
    errors = [
        f"{'/'.join(map(str, e.instance_path))}: {e.message}"
        for e in validator.iter_errors(response.get_json())
    ]
    if errors:
        raise ContractViolation(f"{where}: " + "; ".join(errors[:5]))


@pytest.fixture(autouse=True)
def api_responses_match_the_openapi_document(request):
    """Check each /api/v1 response against the document (opt out: ``no_contract`` marker)."""
    if request.node.get_closest_marker("no_contract"):
        yield
        return

    def on_finished(sender, response, **extra):
        check_response(response)

    request_finished.connect(on_finished)
    try:
        yield
    finally:
        request_finished.disconnect(on_finished)
