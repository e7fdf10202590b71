"""CSRF stays on for every HTML form: no POST route outside the API skips the check."""

import re

import pytest
from werkzeug.routing import IntegerConverter

from forum.extensions import csrf


@pytest.fixture
def config_overrides():
    return {"WTF_CSRF_ENABLED": True}


def _sample_url(rule) -> str:
    def sample(converter):
        if hasattr(converter, "items"):  # <any(a, b):name>
            return sorted(converter.items)[0]
        return 1 if isinstance(converter, IntegerConverter) else "x"

    values = {name: sample(converter) for name, converter in rule._converters.items()}
    return rule.build(values)[1]


def test_only_the_api_blueprint_is_exempt_from_csrf(app):
    assert csrf._exempt_views == set()
    assert {bp.name for bp in csrf._exempt_blueprints} == {"api"}


def test_every_form_post_without_a_csrf_token_is_refused(app, member):
    member_client = app.test_client()
    page = member_client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
    login = {"username": member.username, "password": member.password, "csrf_token": token}
    assert member_client.post("/login", data=login).status_code == 302
    routes = [
        rule
        for rule in app.url_map.iter_rules()
        if rule.methods and "POST" in rule.methods and not rule.rule.startswith("/api/")
    ]
    assert len(routes) > 20
    for rule in routes:
        url = _sample_url(rule)
        response = member_client.post(url, data={"anything": "1"})
        assert response.status_code == 400, (rule.rule, response.status_code)
        assert "expired or came from elsewhere" in response.get_data(as_text=True), rule.rule
