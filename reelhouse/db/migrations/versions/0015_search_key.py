"""library: a folded search key beside each film and show title

SQLite's ``lower()`` and ``LIKE`` fold ASCII letters only: a search for "élite" never
found "Élite", and nothing found "Amélie" from "amelie". Titles now keep
``reelhouse.db.search_key.search_key(title)`` (no accents, case-folded, letters and
digits only), which searches compare. The column is added in place (nullable: no table
copy) and filled from the titles, 1,000 rows per statement.

Revision ID: 0015
Revises: 0014
"""
from alembic import op
import sqlalchemy as sa

from reelhouse.db.search_key import search_key
from reelhouse.db.titlefill import fill_from_titles


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    for table in ('movies', 'shows'):
        op.add_column(table, sa.Column('search_key', sa.String(1100), nullable=True))
        fill_from_titles(conn, table, 'search_key', search_key)


def downgrade() -> None:
    op.drop_column('shows', 'search_key')
    op.drop_column('movies', 'search_key')
