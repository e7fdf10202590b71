"""campaigns: bounces (DSNs) per address, counted to suppress soft bouncers after N

Revision ID: 298f3cc34d18
Revises: 573c49d7d54f
Create Date: 2026-12-01 17:58:05.064567

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '298f3cc34d18'
down_revision = '573c49d7d54f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('campaign_bounces',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=254), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('diagnostic', sa.String(length=200), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('hard', 'soft')", name=op.f('ck_campaign_bounces_kind_known')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_bounces_campaign_id_campaigns'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_bounces'))
    )
    with op.batch_alter_table('campaign_bounces', schema=None) as batch_op:
        batch_op.create_index('ix_campaign_bounces_address_created', ['address', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('campaign_bounces', schema=None) as batch_op:
        batch_op.drop_index('ix_campaign_bounces_address_created')

    op.drop_table('campaign_bounces')
