"""shop: offline payment is a merchant's opt-in; an order's holds have a latest end

Revision ID: c7e4a91d2f30
Revises: c7a1e2f3d4b5
Create Date: 2026-12-01 11:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c7e4a91d2f30'
down_revision = 'c7a1e2f3d4b5'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('shop_merchants', schema=None) as batch_op:
        # Existing shops stop taking offline payments until their merchant opts in.
        batch_op.add_column(
            sa.Column('offline_payments', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table('shop_orders', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('hold_limit_at', sa.DateTime(), nullable=True)
        )


def downgrade():
    with op.batch_alter_table('shop_orders', schema=None) as batch_op:
        batch_op.drop_column('hold_limit_at')
    with op.batch_alter_table('shop_merchants', schema=None) as batch_op:
        batch_op.drop_column('offline_payments')
