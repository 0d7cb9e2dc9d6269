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


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

_BATCH = 1000


def upgrade() -> None:
    conn = op.get_bind()
    for table in ('movies', 'shows'):
        op.drop_index(f'ix_{table}_sort', table_name=table)
        op.add_column(table, sa.Column('sort_title', sa.String(1100), nullable=True))
        rows = sa.table(table, sa.column('id', sa.Integer), sa.column('title', sa.String),
                        sa.column('sort_title', sa.String))
        last = 0
        while True:
            batch = conn.execute(sa.select(rows.c.id, rows.c.title).where(rows.c.id > last)
                                 .order_by(rows.c.id).limit(_BATCH)).all()
            if not batch:
                break
            conn.execute(rows.update().where(rows.c.id == sa.bindparam('b_id'))
                         .values(sort_title=sa.bindparam('b_key')),
                         [{'b_id': i, 'b_key': sort_key(t)} for i, t in batch])
            last = batch[-1][0]
        op.create_index(f'ix_{table}_sort', table, ['sort_title', sa.text('coalesce(year, 0)'), 'id'],
                        unique=False)


def downgrade() -> None:
    for table in ('shows', 'movies'):
        op.drop_index(f'ix_{table}_sort', table_name=table)
        op.drop_column(table, 'sort_title')  # in place (ALTER TABLE DROP COLUMN), no copy
        op.create_index(f'ix_{table}_sort', table, [sa.text('lower(title)'), sa.text('coalesce(year, 0)'), 'id'],
                        unique=False)
