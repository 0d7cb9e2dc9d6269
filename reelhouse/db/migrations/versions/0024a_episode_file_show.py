"""the show of an episode file on the file

``media_files.show_id`` named only the show of an extra; it now also names the show of
an episode file (its episode's season's show), so a show's files are read from
``media_files`` alone (the grid's counts and sources, the show page; issue 14), with
the index ``ix_media_files_show_present`` (show_id, missing_since, source_id,
episode_id, probe_error), which takes the place of ``ix_media_files_show_id``. The ORM
keeps it for every write from now on (reelhouse/db/episode_show.py). Downgrade:
episode files name no show again; the one-column index is back.

Revision ID: 0024a
Revises: 0023a
"""
from alembic import op
import sqlalchemy as sa


revision = '0024a'
down_revision = '0023a'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # one correlated UPDATE: the same SQL on SQLite and PostgreSQL (no UPDATE … FROM)
    op.execute(sa.text(
        "UPDATE media_files SET show_id = (SELECT seasons.show_id FROM episodes"
        " JOIN seasons ON seasons.id = episodes.season_id WHERE episodes.id = media_files.episode_id)"
        " WHERE episode_id IS NOT NULL"))
    # also source_id, episode_id and probe_error: a grid page's per-show counts read the
    # index alone (reelhouse/library/grid.py, _sources_statement)
    op.create_index('ix_media_files_show_present', 'media_files',
                    ['show_id', 'missing_since', 'source_id', 'episode_id', 'probe_error'])
    op.drop_index('ix_media_files_show_id', table_name='media_files')
    if op.get_bind().dialect.name == 'postgresql':  # the planner's view of show_id was "mostly NULL"
        op.execute(sa.text('ANALYZE media_files'))


def downgrade() -> None:
    op.create_index('ix_media_files_show_id', 'media_files', ['show_id'])
    op.drop_index('ix_media_files_show_present', table_name='media_files')
    op.execute(sa.text("UPDATE media_files SET show_id = NULL WHERE episode_id IS NOT NULL"))
