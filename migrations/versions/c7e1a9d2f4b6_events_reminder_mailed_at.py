"""events: sign-ups remember when their reminder email went out (once-only marker)

Revision ID: c7e1a9d2f4b6
Revises: b4ad653b1b20
Create Date: 2026-11-24 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c7e1a9d2f4b6'
down_revision = 'b4ad653b1b20'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('event_signups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminder_mailed_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('event_signups', schema=None) as batch_op:
        batch_op.drop_column('reminder_mailed_at')
