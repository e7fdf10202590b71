"""The OpenAPI document describes what the API sends: response schemas from the response
models, typed query parameters, and a per-response check the whole suite runs."""

import json

import pytest
from flask import request

from tests import openapi_contract


@pytest.fixture
def doc(client):
    return client.get("/api/v1/openapi.json").get_json()


def operations(doc):
    for path, methods in doc["paths"].items():
        for method, operation in methods.items():
            yield method, path, operation


def test_every_success_response_has_a_schema(doc):
    for method, path, operation in operations(doc):
        for status, answer in operation["responses"].items():
            if status.startswith("2") and status != "204":
                schema = answer.get("content", {}).get("application/json", {}).get("schema")
                assert schema, (method, path, status)


def test_response_schemas_come_from_the_models_that_build_the_responses(doc):
    from forum.api import responses

    thread = doc["components"]["schemas"]["Thread"]
    assert (
        thread
        == responses.Thread.model_json_schema(
            ref_template="#/components/schemas/{model}", mode="serialization"
        )
        | {"$defs": thread.get("$defs")}
        if "$defs" in thread
        else thread
    )
    assert set(thread["properties"]) == set(responses.Thread.model_fields)
    assert thread["additionalProperties"] is False


def test_query_parameters_have_their_real_types(doc):
    params = {
        (path, p["name"]): p["schema"]
        for _, path, operation in operations(doc)
        for p in operation.get("parameters", [])
        if p["in"] == "query"
    }
    assert params[("/api/v1/orders", "limit")] == {"type": "integer", "minimum": 1, "maximum": 100}
    assert params[("/api/v1/chat/rooms/{slug}/messages", "before")]["type"] == "integer"
    assert params[("/api/v1/events", "when")]["enum"] == ["upcoming", "past"]
    assert "enum" in params[("/api/v1/merchant/orders", "status")]
    assert params[("/api/v1/admin/attribution", "from")]["format"] == "date"


def test_path_ids_are_bounded_integers(doc):
    thread = doc["paths"]["/api/v1/threads/{thread_id}"]["get"]["parameters"][0]
    assert thread["schema"] == {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}


def test_the_contract_check_refuses_a_body_the_document_does_not_describe(app):
    with app.test_request_context("/api/v1/time"):
        assert request.endpoint == "api.server_time"
        wrong = app.response_class(json.dumps({"clock": 1}), mimetype="application/json")
        with pytest.raises(openapi_contract.ContractViolation, match="now"):
            openapi_contract.check_response(wrong)
        undocumented = app.response_class("{}", status=418, mimetype="application/json")
        with pytest.raises(openapi_contract.ContractViolation, match="not documented"):
            openapi_contract.check_response(undocumented)


def test_the_suite_checks_every_api_response(client, monkeypatch):
    seen = []
    monkeypatch.setattr(openapi_contract, "check_response", lambda response: seen.append(response))
    client.get("/api/v1/time")
    client.get("/api/v1/categories")
    assert [r.status_code for r in seen] == [200, 200]


def test_a_declaration_documents_the_errors_it_implies(doc):
    """``endpoint`` documents 404 for a path parameter, 422 for a body or a query and 401
    for an account, so declarations list only the rest; nothing answered means 204."""
    for method, path, operation in operations(doc):
        codes = set(operation["responses"])
        assert {"400", "503"} <= codes, (method, path)
        if "{" in path:
            assert "404" in codes, (method, path)
        if "requestBody" in operation or any(
            p["in"] == "query" for p in operation.get("parameters", [])
        ):
            assert "422" in codes, (method, path)
        if "security" in operation:
            assert "401" in codes, (method, path)
        success = [code for code in codes if code.startswith("2")]
        assert len(success) == 1, (method, path)
        answered = "content" in operation["responses"][success[0]]
        assert answered == (success[0] != "204"), (method, path)


def test_a_summary_is_the_first_paragraph_of_the_view_docstring(doc):
    from forum.api.core import _first_paragraph

    def view():
        """Refund a paid order, or part of it; a full
        refund restores stock

        What follows is for readers of the code only."""

    assert (
        _first_paragraph(view) == "Refund a paid order, or part of it; a full refund restores stock"
    )
    ship = doc["paths"]["/api/v1/orders/{order_id}/ship"]["post"]
    assert ship["summary"] == "Mark a paid order shipped (its merchant, admin)"


def test_an_endpoint_without_a_summary_is_refused():
    from flask import Blueprint

    from forum.api.core import endpoint

    def undocumented():
        return {}

    with pytest.raises(TypeError, match="docstring"):
        endpoint(Blueprint("scratch", __name__), "/scratch", "GET")(undocumented)
