"""scan: a source's last complete listing time, and the files it did not list

An unchanged rescan wrote ``last_seen`` into every row of the source (on PostgreSQL a
dead row version per file per rescan). Now the source keeps ``last_listed_at`` and a
file keeps its own ``last_seen`` only when that scan did not list it (``unlisted``).
Both columns are added (nullable: SQLite adds them without copying the table).

Revision ID: 0014
Revises: 0013
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('sources', sa.Column('last_listed_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('media_files', sa.Column('unlisted', sa.Boolean(), nullable=True))


def downgrade() -> None:
    # in place (ALTER TABLE DROP COLUMN), never a batch copy of media_files (see 0012);
    # files listed by the last scan get its time back as their own
    conn = op.get_bind()
    conn.execute(sa.text(
        "UPDATE media_files SET last_seen = (SELECT s.last_listed_at FROM sources s"
        " WHERE s.id = media_files.source_id) WHERE missing_since IS NULL AND unlisted IS NULL"
        " AND (SELECT s.last_listed_at FROM sources s WHERE s.id = media_files.source_id) > last_seen"))
    op.drop_column('media_files', 'unlisted')
    op.drop_column('sources', 'last_listed_at')
