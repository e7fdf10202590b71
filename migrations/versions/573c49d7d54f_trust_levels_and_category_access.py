"""trust: the rules table, members' activity counters, visit days, thread reads and level
changes; categories: archived and who may read and post (roles, tiers, minimum trust)

Revision ID: 573c49d7d54f
Revises: 202fdfa3a3a1
Create Date: 2026-12-01 18:08:18.961782

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '573c49d7d54f'
down_revision = '202fdfa3a3a1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('trust_activity',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('topics_entered', sa.Integer(), server_default='0', nullable=False),
    sa.Column('posts_read', sa.Integer(), server_default='0', nullable=False),
    sa.Column('reading_seconds', sa.Integer(), server_default='0', nullable=False),
    sa.Column('days_visited', sa.Integer(), server_default='0', nullable=False),
    sa.Column('likes_given', sa.Integer(), server_default='0', nullable=False),
    sa.Column('likes_received', sa.Integer(), server_default='0', nullable=False),
    sa.Column('replies', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_read_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_trust_activity_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_trust_activity'))
    )
    op.create_table('trust_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('old_level', sa.Integer(), nullable=False),
    sa.Column('new_level', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('granted', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_trust_changes_actor_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_trust_changes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trust_changes'))
    )
    with op.batch_alter_table('trust_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trust_changes_user_id'), ['user_id'], unique=False)

    op.create_table('trust_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('metric', sa.String(length=32), nullable=False),
    sa.Column('threshold', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_trust_rules_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trust_rules')),
    sa.UniqueConstraint('level', 'metric', name='uq_trust_rules_level_metric')
    )
    op.create_table('trust_thread_reads',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('thread_id', sa.Integer(), nullable=False),
    sa.Column('posts_seen', sa.Integer(), server_default='0', nullable=False),
    sa.Column('first_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_trust_thread_reads_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'thread_id', name=op.f('pk_trust_thread_reads'))
    )
    op.create_table('trust_visits',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_trust_visits_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'day', name=op.f('pk_trust_visits'))
    )
    op.create_table('trust_badge_awards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('badge', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('awarded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_trust_badge_awards_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trust_badge_awards')),
    sa.UniqueConstraint('user_id', 'badge', name='uq_trust_badge_awards_once')
    )
    with op.batch_alter_table('trust_badge_awards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trust_badge_awards_user_id'), ['user_id'], unique=False)
    op.create_table('trust_badge_marks',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('badge', sa.String(length=32), nullable=False),
    sa.Column('ref_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_trust_badge_marks_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'badge', 'ref_id', name=op.f('pk_trust_badge_marks'))
    )
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.add_column(sa.Column('archived', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('read_roles', sa.String(length=80), server_default='', nullable=False))
        batch_op.add_column(sa.Column('read_tiers', sa.String(length=80), server_default='', nullable=False))
        batch_op.add_column(sa.Column('read_min_trust', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('post_roles', sa.String(length=80), server_default='', nullable=False))
        batch_op.add_column(sa.Column('post_tiers', sa.String(length=80), server_default='', nullable=False))
        batch_op.add_column(sa.Column('post_min_trust', sa.Integer(), server_default='0', nullable=False))



def downgrade():
    op.drop_table('trust_badge_marks')
    with op.batch_alter_table('trust_badge_awards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trust_badge_awards_user_id'))
    op.drop_table('trust_badge_awards')
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.drop_column('post_min_trust')
        batch_op.drop_column('post_tiers')
        batch_op.drop_column('post_roles')
        batch_op.drop_column('read_min_trust')
        batch_op.drop_column('read_tiers')
        batch_op.drop_column('read_roles')
        batch_op.drop_column('archived')

    op.drop_table('trust_visits')
    op.drop_table('trust_thread_reads')
    op.drop_table('trust_rules')
    with op.batch_alter_table('trust_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trust_changes_user_id'))

    op.drop_table('trust_changes')
    op.drop_table('trust_activity')
