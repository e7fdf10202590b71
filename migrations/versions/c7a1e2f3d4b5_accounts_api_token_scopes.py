"""accounts: API token scopes (read, write, merchant)

Revision ID: c7a1e2f3d4b5
Revises: 2ab3bddafa93
Create Date: 2026-12-01 11:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c7a1e2f3d4b5'
down_revision = '2ab3bddafa93'
branch_labels = None
depends_on = None


def upgrade():
    # Tokens made before scopes existed keep what they could do: read and write
    # (merchant endpoints now need the merchant scope; merchants make a new token).
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('scopes', sa.String(length=64), nullable=False, server_default='read write')
        )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.alter_column('scopes', server_default=None)


def downgrade():
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('scopes')
