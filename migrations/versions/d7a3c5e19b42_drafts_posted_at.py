"""social: drafts remember when the member posted there (a late autosave is refused)

Revision ID: d7a3c5e19b42
Revises: c4f1a8e2d913
Create Date: 2026-12-02 10:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'd7a3c5e19b42'
down_revision = 'c4f1a8e2d913'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('drafts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('posted_at', sa.DateTime(), nullable=True))


def downgrade():
    op.execute("DELETE FROM drafts WHERE body = '' AND title = ''")
    with op.batch_alter_table('drafts', schema=None) as batch_op:
        batch_op.drop_column('posted_at')
