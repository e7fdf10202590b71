"""shop: products hidden by moderation (flags upheld or past the flag score)

Revision ID: c4e8b2d1f9a6
Revises: 619f9a82f416
Create Date: 2026-12-01 21:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c4e8b2d1f9a6'
down_revision = '619f9a82f416'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('shop_products', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hidden_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('hidden_reason', sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table('shop_products', schema=None) as batch_op:
        batch_op.drop_column('hidden_reason')
        batch_op.drop_column('hidden_at')
