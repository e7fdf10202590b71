import re

import pytest

from tests.conftest import login


def csrf_of(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


@pytest.fixture
def api_for(app, token_for):
    """A member's API client: a bearer token, and a logged-in cookie session for pages."""

    class Api:
        def __init__(self, user):
            self.client = app.test_client()
            login(self.client, user)
            self.headers = token_for(user)

        def __getattr__(self, verb):
            method = getattr(self.client, verb)
            return lambda url, **kw: method(
                url, headers={**self.headers, **kw.pop("headers", {})}, **kw
            )

    return Api


@pytest.fixture
def first_post_id(app):
    from forum.board.models import Post
    from forum.extensions import db

    def find(thread_id: int) -> int:
        with app.app_context():
            return db.session.scalar(
                db.select(Post.id).where(Post.thread_id == thread_id, Post.position == 1)
            )

    return find
