"""Throw random JSON at every write endpoint of the OpenAPI document: never a 5xx,
always the error shape on refusals. Path ids point at real objects where they exist."""

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


def operations(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    for path, methods in doc["paths"].items():
        for method, operation in methods.items():
            if method in ("post", "patch", "put", "delete"):
                schema = (
                    (operation.get("requestBody") or {})
                    .get("content", {})
                    .get("application/json", {})
                )
                fields = []
                ref = (schema.get("schema") or {}).get("$ref")
                if ref:
                    model = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
                    fields = list(model.get("properties", {}))
                yield method, path, fields


@pytest.fixture
def world(app, make_user, make_thread, token_for):
    admin = make_user("fuzzadmin", role="admin")
    thread_id = make_thread(admin)
    return {"headers": token_for(admin), "thread_id": thread_id}


@settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_random_bodies_never_cause_a_server_error(app, world, data):
    client = app.test_client()
    for method, path, fields in operations(client):
        concrete = re.sub(r"\{[^}]+\}", lambda m: "general" if "slug" in m.group(0) else "1", path)
        if fields:
            body = data.draw(
                st.fixed_dictionaries({}, optional={name: json_values for name in fields})
                | json_values,
                label=f"{method} {path}",
            )
        else:
            body = data.draw(json_values, label=f"{method} {path}")
        response = getattr(client, method)(concrete, json=body, headers=world["headers"])
        assert response.status_code < 500, (
            method,
            concrete,
            body,
            response.get_data(as_text=True)[:300],
        )
        if response.status_code >= 400:
            error = response.get_json()["error"]
            assert set(error) == {"code", "message", "fields"}, (method, concrete)
