"""insight: members' first sight of a widget, for promotion evaluation

Revision ID: c4e81f0b9d27
Revises: a7d3e9c2b184
Create Date: 2026-12-01 21:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c4e81f0b9d27'
down_revision = 'a7d3e9c2b184'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'insight_exposures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('embed_kind', sa.String(length=16), nullable=False),
        sa.Column('embed_id', sa.Integer(), nullable=False),
        sa.Column('source_kind', sa.String(length=8), nullable=False),
        sa.Column('source_id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('first_seen_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint(
            'user_id', 'embed_kind', 'embed_id', 'source_kind', 'source_id',
            name='uq_insight_exposures_key',
        ),
    )
    with op.batch_alter_table('insight_exposures', schema=None) as batch_op:
        batch_op.create_index(
            'ix_insight_exposures_embed', ['embed_kind', 'embed_id', 'first_seen_at'], unique=False
        )
        batch_op.create_index('ix_insight_exposures_seen', ['first_seen_at'], unique=False)


def downgrade():
    with op.batch_alter_table('insight_exposures', schema=None) as batch_op:
        batch_op.drop_index('ix_insight_exposures_seen')
        batch_op.drop_index('ix_insight_exposures_embed')
    op.drop_table('insight_exposures')
