"""board indexes: the front page's order (pinned, last activity, id), a member's latest posts

The front page lists every category's threads pinned first, then by latest activity;
without an index in that order each view scanned and sorted every thread. A profile's
latest posts (author, newest id first) walked every post backwards by id.

Revision ID: 7f3b2c1d9e45
Revises: 5e2b8c4d7f19
Create Date: 2026-12-01 18:00:00

"""
from alembic import op


revision = '7f3b2c1d9e45'
down_revision = '5e2b8c4d7f19'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('threads', schema=None) as batch_op:
        batch_op.create_index('ix_threads_front', ['pinned', 'last_activity_at', 'id'], unique=False)
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.create_index('ix_posts_author_recent', ['author_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_index('ix_posts_author_recent')
    with op.batch_alter_table('threads', schema=None) as batch_op:
        batch_op.drop_index('ix_threads_front')
