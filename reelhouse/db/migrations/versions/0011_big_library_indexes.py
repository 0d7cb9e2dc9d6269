"""big library indexes: grid order, present files, continue watching (db/indexes.py)

Revision ID: 0011
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ('movies', 'shows'):
        op.create_index(f'ix_{table}_sort', table,
                        [sa.text('lower(title)'), sa.text('coalesce(year, 0)'), 'id'], unique=False)
    op.create_index('ix_media_files_movie_present', 'media_files', ['movie_id', 'missing_since'], unique=False)
    op.create_index('ix_media_files_episode_present', 'media_files', ['episode_id', 'missing_since'],
                    unique=False)
    op.create_index('ix_watch_progress_user_updated', 'watch_progress', ['user_id', 'updated_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_watch_progress_user_updated', table_name='watch_progress')
    op.drop_index('ix_media_files_episode_present', table_name='media_files')
    op.drop_index('ix_media_files_movie_present', table_name='media_files')
    op.drop_index('ix_shows_sort', table_name='shows')
    op.drop_index('ix_movies_sort', table_name='movies')
