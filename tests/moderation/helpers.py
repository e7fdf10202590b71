"""Small helpers the moderation tests share (imported, not fixtures)."""

from sqlalchemy import func, select

from forum.extensions import db
from tests.conftest import app_context


def first_post_id(app, thread_id: int) -> int:
    from forum.board.models import Post

    with app_context(app):
        return db.session.scalar(
            select(Post.id).where(Post.thread_id == thread_id, Post.position == 1)
        )


def count(app, model, *where) -> int:
    with app_context(app):
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def set_trust(app, user_id: int, level: int) -> None:
    from forum.accounts.models import User

    with app_context(app):
        db.session.get(User, user_id).trust_level = level
        db.session.commit()


def flag_body(post_id: int, reason: str = "spam", note: str = "") -> dict:
    return {"target": "post", "target_id": post_id, "reason": reason, "note": note}
