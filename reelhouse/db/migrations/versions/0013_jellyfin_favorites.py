"""jellyfin: favourites, and newest-first indexes for the Jellyfin items queries

Revision ID: 0013
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0010'  # given as 0007; chained after main's head (0010) so one head stays
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'favorites',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('item_kind', sa.String(length=16), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'item_kind', 'item_id'),
    )
    with op.batch_alter_table('favorites', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_favorites_user_id'), ['user_id'], unique=False)
    op.create_index('ix_movies_created_at', 'movies', ['created_at'], unique=False)
    op.create_index('ix_shows_created_at', 'shows', ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_shows_created_at', table_name='shows')
    op.drop_index('ix_movies_created_at', table_name='movies')
    with op.batch_alter_table('favorites', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_favorites_user_id'))
    op.drop_table('favorites')
