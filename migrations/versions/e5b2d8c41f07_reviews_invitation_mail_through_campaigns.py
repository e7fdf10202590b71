"""reviews: invitation emails go through campaigns (drop review_invitations mail columns)

Revision ID: e5b2d8c41f07
Revises: 4d1c7e9a2b10
Create Date: 2026-12-01 18:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'e5b2d8c41f07'
down_revision = '4d1c7e9a2b10'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('review_invitations', schema=None) as batch_op:
        batch_op.drop_column('reminder_mailed_at')
        batch_op.drop_column('invite_mailed_at')


def downgrade():
    with op.batch_alter_table('review_invitations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('invite_mailed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('reminder_mailed_at', sa.DateTime(), nullable=True))
