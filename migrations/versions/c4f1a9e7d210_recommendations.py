"""recommend: the precomputed "For you" and "Suggested threads" lists; chat messages by time

Revision ID: c4f1a9e7d210
Revises: c4e81f0b9d27
Create Date: 2026-12-01 21:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c4f1a9e7d210'
down_revision = 'c4e81f0b9d27'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'recommendations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('subject', sa.String(length=24), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('rank', sa.Integer(), nullable=False),
        sa.Column('target_id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('reason', sa.String(length=240), nullable=False),
        sa.Column('category_id', sa.Integer(), nullable=True),
        sa.Column('slug', sa.String(length=64), nullable=True),
        sa.Column('score', sa.Float(), nullable=False),
        sa.Column('computed_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('recommendations', schema=None) as batch_op:
        batch_op.create_index(
            'ix_recommendations_subject', ['subject', 'kind', 'rank'], unique=False
        )
    # Community health's chat activity per day reads messages by time.
    with op.batch_alter_table('chat_messages', schema=None) as batch_op:
        batch_op.create_index('ix_chat_messages_created_at', ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('chat_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_chat_messages_created_at')
    with op.batch_alter_table('recommendations', schema=None) as batch_op:
        batch_op.drop_index('ix_recommendations_subject')
    op.drop_table('recommendations')
