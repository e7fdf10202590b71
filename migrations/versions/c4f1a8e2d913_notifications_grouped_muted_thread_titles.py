"""notifications: grouped rows (target, actors, counts, updated_at) and in-app mutes;
board: thread title revisions

Revision ID: c4f1a8e2d913
Revises: c4e8b2d1f9a6
Create Date: 2026-12-01 21:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c4f1a8e2d913'
down_revision = 'c4e8b2d1f9a6'
branch_labels = None
depends_on = None

OPEN_GROUP = sa.text("read_at IS NULL AND target IS NOT NULL")


def upgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('target', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('actor_names', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('actor_count', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('count', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(), nullable=True))
    op.execute("UPDATE notifications SET updated_at = created_at, actor_names = '[]'")
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.alter_column('updated_at', existing_type=sa.DateTime(), nullable=False)
        batch_op.alter_column('actor_names', existing_type=sa.JSON(), nullable=False)
        batch_op.create_index(
            'uq_notifications_open_group', ['user_id', 'kind', 'target'], unique=True,
            sqlite_where=OPEN_GROUP, postgresql_where=OPEN_GROUP,
        )
        batch_op.create_index('ix_notifications_user_updated', ['user_id', 'updated_at'], unique=False)
    op.create_table(
        'notification_mutes',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('type', sa.String(length=32), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'type'),
    )
    op.create_table(
        'thread_title_revisions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('thread_id', sa.Integer(), nullable=False),
        sa.Column('editor_id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['editor_id'], ['users.id']),
        sa.ForeignKeyConstraint(['thread_id'], ['threads.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('thread_title_revisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_thread_title_revisions_thread_id'), ['thread_id'], unique=False)


def downgrade():
    with op.batch_alter_table('thread_title_revisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_thread_title_revisions_thread_id'))
    op.drop_table('thread_title_revisions')
    op.drop_table('notification_mutes')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_user_updated')
        batch_op.drop_index('uq_notifications_open_group')
        batch_op.drop_column('updated_at')
        batch_op.drop_column('count')
        batch_op.drop_column('actor_count')
        batch_op.drop_column('actor_names')
        batch_op.drop_column('target')
