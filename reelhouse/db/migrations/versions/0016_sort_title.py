"""library: the grid sorts by a folded title without its leading article

``lower(title)`` filed "The Matrix" under T and "Élite" after "Zodiac" (SQLite folds
ASCII only), so the A-Z jump missed both. Titles now keep
``reelhouse.db.search_key.sort_key(title)`` in ``sort_title``, and the grid's indexes
order by it. The column is added in place and filled from the titles, 1,000 rows per
statement; it stays nullable: making it NOT NULL would copy the table on SQLite, and
dropping ``movies`` there would run its foreign keys' actions on every file (see 0012).

Revision ID: 0016
Revises: 0015
"""
from alembic import op
import sqlalchemy as sa

from reelhouse.db.search_key import sort_key
from reelhouse.db.titlefill import fill_from_titles


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    for table in ('movies', 'shows'):
        op.drop_index(f'ix_{table}_sort', table_name=table)
        op.add_column(table, sa.Column('sort_title', sa.String(1100), nullable=True))
        fill_from_titles(conn, table, 'sort_title', sort_key)
        op.create_index(f'ix_{table}_sort', table, ['sort_title', sa.text('coalesce(year, 0)'), 'id'],
                        unique=False)


def downgrade() -> None:
    for table in ('shows', 'movies'):
        op.drop_index(f'ix_{table}_sort', table_name=table)
        op.drop_column(table, 'sort_title')  # in place (ALTER TABLE DROP COLUMN), no copy
        op.create_index(f'ix_{table}_sort', table, [sa.text('lower(title)'), sa.text('coalesce(year, 0)'), 'id'],
                        unique=False)
