"""thread_reads: how far each member has read each thread (unread/new lists, the jump
to the first unread post); thread_watches and category_watches: notification levels

Revision ID: 5e2f8a1c3b47
Revises: 7f3b2c1d9e45
Create Date: 2026-12-01 18:55:00

"""
from alembic import op
import sqlalchemy as sa


revision = '5e2f8a1c3b47'
down_revision = '7f3b2c1d9e45'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'thread_reads',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('thread_id', sa.Integer(), nullable=False),
        sa.Column('last_read_position', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['thread_id'], ['threads.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'thread_id'),
    )
    with op.batch_alter_table('thread_reads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_thread_reads_thread_id'), ['thread_id'], unique=False)
    op.create_table(
        'thread_watches',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('thread_id', sa.Integer(), nullable=False),
        sa.Column('level', sa.String(length=16), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['thread_id'], ['threads.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'thread_id'),
    )
    with op.batch_alter_table('thread_watches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_thread_watches_thread_id'), ['thread_id'], unique=False)
    op.create_table(
        'category_watches',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('category_id', sa.Integer(), nullable=False),
        sa.Column('level', sa.String(length=16), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['category_id'], ['categories.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'category_id'),
    )
    with op.batch_alter_table('category_watches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_category_watches_category_id'), ['category_id'], unique=False)


def downgrade():
    with op.batch_alter_table('category_watches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_category_watches_category_id'))
    op.drop_table('category_watches')
    with op.batch_alter_table('thread_watches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_thread_watches_thread_id'))
    op.drop_table('thread_watches')
    with op.batch_alter_table('thread_reads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_thread_reads_thread_id'))
    op.drop_table('thread_reads')
