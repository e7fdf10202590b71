"""users.trust_level: the member's trust level 0-4, read by every user reference

Revision ID: 4d1c7e9a2b10
Revises: 8b9a65132e8d
Create Date: 2026-12-01 17:45:00

"""
from alembic import op
import sqlalchemy as sa


revision = '4d1c7e9a2b10'
down_revision = '8b9a65132e8d'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('trust_level', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('trust_level')
