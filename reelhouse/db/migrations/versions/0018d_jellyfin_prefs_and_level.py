"""jellyfin: display preferences per user, client and id; a video stream's level

Jellyfin apps save their sort order and view type per library with ``POST
DisplayPreferences/{id}`` and read them back on the next visit: ``display_prefs``
keeps them. A DeviceProfile's CodecProfile may limit the video's level (H.264 ≤ 4.1
on many TVs): ``media_streams.level`` holds it, read by the probe (NULL for files
probed before: an unknown level passes unless the condition is required, as in
Jellyfin).

Revision ID: 0018d
Revises: 0017
"""
from alembic import op
import sqlalchemy as sa


revision = '0018d'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'display_prefs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('client', sa.String(length=64), nullable=False),
        sa.Column('pref_id', sa.String(length=64), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'client', 'pref_id'),
    )
    op.create_index(op.f('ix_display_prefs_user_id'), 'display_prefs', ['user_id'], unique=False)
    with op.batch_alter_table('media_streams') as batch:
        batch.add_column(sa.Column('level', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('media_streams') as batch:
        batch.drop_column('level')
    op.drop_index(op.f('ix_display_prefs_user_id'), table_name='display_prefs')
    op.drop_table('display_prefs')
