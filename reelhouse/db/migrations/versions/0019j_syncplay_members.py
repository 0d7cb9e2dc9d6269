"""jellyfin: SyncPlay group membership per app session

A Jellyfin app's session (or API key) in a SyncPlay group: ``syncplay_members`` maps
it to the watch party the group is (NULL while the group has no item yet), so every
node knows which party an app's socket follows.

Revision ID: 0019j
Revises: 0019s
"""
from alembic import op
import sqlalchemy as sa


revision = '0019j'
down_revision = '0019s'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'syncplay_members',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('grant', sa.String(length=40), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('party_id', sa.Integer(), nullable=True),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('joined_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['party_id'], ['watch_sessions.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('grant'),
    )
    op.create_index(op.f('ix_syncplay_members_user_id'), 'syncplay_members', ['user_id'], unique=False)
    op.create_index(op.f('ix_syncplay_members_party_id'), 'syncplay_members', ['party_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_syncplay_members_party_id'), table_name='syncplay_members')
    op.drop_index(op.f('ix_syncplay_members_user_id'), table_name='syncplay_members')
    op.drop_table('syncplay_members')
