"""trust: reading time credited per day, so a scripted read beacon cannot farm it

Revision ID: a91e6c3f5d28
Revises: d7a3c5e19b42
Create Date: 2026-12-02 04:45:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a91e6c3f5d28'
down_revision = 'd7a3c5e19b42'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('trust_visits', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('reading_seconds', sa.Integer(), server_default='0', nullable=False)
        )


def downgrade():
    with op.batch_alter_table('trust_visits', schema=None) as batch_op:
        batch_op.drop_column('reading_seconds')
