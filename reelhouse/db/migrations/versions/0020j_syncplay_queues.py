"""jellyfin: a SyncPlay group's play queue

The queue of the SyncPlay group a watch party is (several items, each with its
playlist item id, the playing one, the shuffle and repeat modes) as JSON, with a
version for optimistic locking.

Revision ID: 0020j
Revises: 0019j
"""
from alembic import op
import sqlalchemy as sa


revision = '0020j'
down_revision = '0019j'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'syncplay_queues',
        sa.Column('party_id', sa.Integer(), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['party_id'], ['watch_sessions.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('party_id'),
    )


def downgrade() -> None:
    op.drop_table('syncplay_queues')
