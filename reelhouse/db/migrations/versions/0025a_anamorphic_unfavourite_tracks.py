"""sample aspect ratio, unfavourites kept, remembered tracks

- ``media_streams.sample_aspect_ratio``: a video's pixel shape as the probe reads it
  (``"64:45"`` for a 720x576 DVD shown 16:9), so Jellyfin's ``AspectRatio`` is the
  display ratio, not the pixel size's. NULL for files probed before: their next probe
  fills it (it cannot be derived without reading the file again).
- ``favorites.is_favorite`` and ``favorites.updated_at``: unfavouriting keeps the row
  (``is_favorite`` false, ``updated_at`` the time), so ``MinDateLastSavedForUser``
  shows the change to a syncing client; existing rows are favourites saved when made.
- ``watch_progress.audio_stream_index``/``subtitle_stream_index``: the tracks the user
  last played a file with (Jellyfin's UserItemData, "RememberAudioSelections"); -1
  subtitles: off. NULL: none chosen.
- ``ix_media_files_episode_added``: episode files newest first (``Items/Latest`` of
  the series reads the newest and stops; db/indexes.py).

Revision ID: 0025a
Revises: 0024b
"""
from alembic import op
import sqlalchemy as sa


revision = '0025a'
down_revision = '0024b'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('media_streams') as batch:
        batch.add_column(sa.Column('sample_aspect_ratio', sa.String(length=16), nullable=True))
    with op.batch_alter_table('favorites') as batch:
        batch.add_column(sa.Column('is_favorite', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE favorites SET updated_at = created_at")
    with op.batch_alter_table('favorites') as batch:
        batch.alter_column('updated_at', existing_type=sa.DateTime(timezone=True), nullable=False)
    with op.batch_alter_table('watch_progress') as batch:
        batch.add_column(sa.Column('audio_stream_index', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('subtitle_stream_index', sa.Integer(), nullable=True))
    op.create_index('ix_media_files_episode_added', 'media_files', ['first_seen', 'id'],
                    sqlite_where=sa.text('episode_id IS NOT NULL'), postgresql_where=sa.text('episode_id IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('ix_media_files_episode_added', table_name='media_files')
    with op.batch_alter_table('watch_progress') as batch:
        batch.drop_column('subtitle_stream_index')
        batch.drop_column('audio_stream_index')
    op.execute("DELETE FROM favorites WHERE is_favorite = false")
    with op.batch_alter_table('favorites') as batch:
        batch.drop_column('updated_at')
        batch.drop_column('is_favorite')
    with op.batch_alter_table('media_streams') as batch:
        batch.drop_column('sample_aspect_ratio')
