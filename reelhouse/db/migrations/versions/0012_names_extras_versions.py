"""names: extras, versions, show identity by title + year (issue 15)

Adds media_files.extra_type / version / show_id / naming_version and shows.tvdb_id.
Data: shows were keyed by title alone ("doctor who|"); they are keyed by title and year
now ("doctor who|2005"), as movies are. Every file gets naming_version 0, so the next
scan of its source places it again with the new naming rules (library/linking.py): files
keep their rows (ids), so watch progress, parties and offline copies stay; locked
(manually fixed) titles keep their files.

Revision ID: 0012
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Columns are added in place (ALTER TABLE ADD COLUMN), never by a batch table copy:
    # the copy drops media_files, and with foreign keys on SQLite would then delete every
    # watch progress, party and offline copy row that points at it. (So show_id has no
    # FOREIGN KEY: SQLite cannot add one without the copy.)
    op.add_column('media_files', sa.Column('extra_type', sa.String(length=32), nullable=True))
    op.add_column('media_files', sa.Column('version', sa.String(length=128), nullable=True))
    op.add_column('media_files', sa.Column('naming_version', sa.Integer(), server_default='0', nullable=False))
    op.add_column('media_files', sa.Column('show_id', sa.Integer(), nullable=True))
    op.create_index('ix_media_files_show_id', 'media_files', ['show_id'], unique=False)
    op.add_column('shows', sa.Column('tvdb_id', sa.Integer(), nullable=True))
    conn = op.get_bind()
    shows = sa.table('shows', sa.column('id', sa.Integer),
                     sa.column('year', sa.Integer), sa.column('match_key', sa.String))
    rows = conn.execute(sa.select(shows.c.id, shows.c.match_key, shows.c.year)).all()
    for row in rows:
        # the key's text is the title the file names gave (a TMDB or manual title may
        # differ): keep it, add the year
        text = row.match_key.rsplit("|", 1)[0]
        conn.execute(shows.update().where(shows.c.id == row.id).values(match_key=f"{text}|{row.year or ''}"))


def downgrade() -> None:
    conn = op.get_bind()
    shows = sa.table('shows', sa.column('id', sa.Integer), sa.column('match_key', sa.String))
    seen: set[str] = set()
    for row in conn.execute(sa.select(shows.c.id, shows.c.match_key).order_by(shows.c.id)).all():
        key = row.match_key.rsplit("|", 1)[0] + "|"
        if key in seen:  # remakes kept apart by their year: keep the key unique
            key = f"{key}{row.id}"
        seen.add(key)
        conn.execute(shows.update().where(shows.c.id == row.id).values(match_key=key))
    op.drop_index('ix_media_files_show_id', table_name='media_files')
    for column in ('show_id', 'naming_version', 'version', 'extra_type'):
        op.drop_column('media_files', column)
    op.drop_column('shows', 'tvdb_id')
