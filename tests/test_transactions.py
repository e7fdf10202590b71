"""Nested transactions (savepoints) roll back with their parent on both engines."""

from sqlalchemy import func, select

from forum.accounts import service as accounts
from forum.accounts.models import User
from forum.extensions import db
from forum.members.models import LedgerEntry


def test_a_savepoint_write_is_undone_by_the_outer_rollback(app):
    with app.app_context(), app.test_request_context("/"):
        # register() writes the user inside a savepoint as its first statement.
        accounts.register("ghostly", "ghostly@example.com", "long enough passphrase")
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(User)) == 0
        assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0
