"""ids in playback tokens and URLs are never reused on SQLite

SQLite gives a new row ``max(rowid) + 1`` unless the table is declared
``AUTOINCREMENT`` (https://www.sqlite.org/autoinc.html), so deleting the newest media
file, user, session or API key and adding another handed the old id out again: a
playback token (which names a user, a session or key, and a media file; it lives up to
``playback_token_ttl``, 6 h by default) or a bookmarked URL of the deleted row then named
the new one. PostgreSQL's sequences never go back; AUTOINCREMENT makes SQLite do the
same. SQLite can only add it by rebuilding each table (Alembic's batch mode: copy,
drop, rename; foreign keys are off meanwhile, reelhouse/db/migrate.py), which keeps
every row and id. PostgreSQL: nothing to do.

Revision ID: 0021h
Revises: 0020j
"""
from alembic import op


revision = '0021h'
down_revision = '0020j'
branch_labels = None
depends_on = None

#: the tables whose ids a playback token names (users, auth_sessions, api_keys,
#: media_files) — media_files' ids are also in every stream, HLS and subtitle URL
TABLES = ('users', 'auth_sessions', 'api_keys', 'media_files')


def _rebuild(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != 'sqlite':
        return
    for table in TABLES:
        with op.batch_alter_table(table, recreate='always',
                                  table_kwargs={'sqlite_autoincrement': autoincrement}):
            pass


def upgrade() -> None:
    _rebuild(True)


def downgrade() -> None:
    _rebuild(False)
