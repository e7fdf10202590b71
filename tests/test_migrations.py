"""Alembic builds the schema the models describe, on an empty database, on both engines."""

import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from forum import create_app
from forum.extensions import db
from tests.conftest import PG_URL, base_config


@pytest.fixture
def empty_database(tmp_path):
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    url = make_url(PG_URL)
    name = f"{url.database}_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _diff(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": _include}
        )
        return compare_metadata(context, db.metadata)


def _include(obj, name, type_, reflected, compare_to):
    # Full-text objects are hand-written DDL (see migrations/env.py include_object).
    return not (type_ in ("table", "index") and name and "_fts" in name)


def test_upgrade_empty_database_to_head_matches_models(empty_database):
    app = create_app(base_config(empty_database))
    with app.app_context():
        upgrade(directory=os.path.join(app.root_path, "..", "migrations"))
        tables = set(inspect(db.engine).get_table_names())
        assert {"users", "threads", "posts", "alembic_version"} <= tables
        diff = _diff(app)
        assert diff == [], f"models and migrations differ: {diff}"
        db.engine.dispose()


def test_full_text_search_works_after_migrations(empty_database):
    from forum.accounts import service as accounts
    from forum.board import service as board
    from forum.search import service as search
    from forum.search.schemas import SearchQuery

    app = create_app(base_config(empty_database))
    with app.app_context(), app.test_request_context("/"):
        upgrade(directory=os.path.join(app.root_path, "..", "migrations"))
        admin = accounts.register(
            "miguser", "mig@example.com", "long enough passphrase", role="admin"
        )
        category = board.create_category(admin, "general", "General")
        board.create_thread(admin, category, "Sourdough questions", "My starter smells of acetone")
        db.session.commit()
        assert [h.label for h in search.search(SearchQuery(q="acetone")).items] == [
            "Sourdough questions"
        ]
        db.session.remove()
        db.engine.dispose()


def test_downgrade_to_base_and_back(empty_database):
    app = create_app(base_config(empty_database))
    directory = os.path.join(app.root_path, "..", "migrations")
    with app.app_context():
        upgrade(directory=directory)
        downgrade(directory=directory, revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade(directory=directory)
        assert "posts" in inspect(db.engine).get_table_names()
        db.engine.dispose()
