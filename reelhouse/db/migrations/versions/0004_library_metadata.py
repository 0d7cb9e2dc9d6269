"""library metadata: nfo, tmdb, artwork

Revision ID: 0004
Revises: 0003
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def _item_columns(batch_op, table: str) -> None:  # type: ignore[no-untyped-def]
    batch_op.add_column(sa.Column('overview', sa.Text(), nullable=True))
    batch_op.add_column(sa.Column('genres', sa.JSON(), nullable=True))
    batch_op.add_column(sa.Column('rating', sa.Float(), nullable=True))
    batch_op.add_column(sa.Column('tmdb_id', sa.Integer(), nullable=True))
    batch_op.add_column(sa.Column('imdb_id', sa.String(length=16), nullable=True))
    batch_op.add_column(sa.Column('poster_image_id', sa.Integer(), nullable=True))
    batch_op.add_column(sa.Column('backdrop_image_id', sa.Integer(), nullable=True))
    batch_op.add_column(sa.Column('match_confidence', sa.Float(), nullable=True))
    batch_op.add_column(sa.Column('needs_review', sa.Boolean(), nullable=False, server_default=sa.false()))
    batch_op.add_column(sa.Column('locked', sa.Boolean(), nullable=False, server_default=sa.false()))
    batch_op.create_foreign_key(f'fk_{table}_poster_image_id_images', 'images', ['poster_image_id'], ['id'],
                                ondelete='SET NULL')
    batch_op.create_foreign_key(f'fk_{table}_backdrop_image_id_images', 'images', ['backdrop_image_id'], ['id'],
                                ondelete='SET NULL')


def upgrade() -> None:
    op.create_table('images',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('origin', sa.String(length=16), nullable=False),
    sa.Column('ref', sa.Text(), nullable=False),
    sa.Column('file', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=32), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=True),
    sa.Column('mtime', sa.Float(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('origin', 'ref')
    )
    op.create_table('tmdb_cache',
    sa.Column('key', sa.String(length=1024), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    for table in ('movies', 'shows'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            _item_columns(batch_op, table)
    with op.batch_alter_table('seasons', schema=None) as batch_op:
        batch_op.add_column(sa.Column('poster_image_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_seasons_poster_image_id_images', 'images', ['poster_image_id'], ['id'],
                                    ondelete='SET NULL')
    with op.batch_alter_table('episodes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('overview', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('still_image_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_episodes_still_image_id_images', 'images', ['still_image_id'], ['id'],
                                    ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('episodes', schema=None) as batch_op:
        batch_op.drop_constraint('fk_episodes_still_image_id_images', type_='foreignkey')
        batch_op.drop_column('still_image_id')
        batch_op.drop_column('overview')
    with op.batch_alter_table('seasons', schema=None) as batch_op:
        batch_op.drop_constraint('fk_seasons_poster_image_id_images', type_='foreignkey')
        batch_op.drop_column('poster_image_id')
    for table in ('shows', 'movies'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f'fk_{table}_backdrop_image_id_images', type_='foreignkey')
            batch_op.drop_constraint(f'fk_{table}_poster_image_id_images', type_='foreignkey')
            for col in ('locked', 'needs_review', 'match_confidence', 'backdrop_image_id', 'poster_image_id',
                        'imdb_id', 'tmdb_id', 'rating', 'genres', 'overview'):
                batch_op.drop_column(col)
    op.drop_table('tmdb_cache')
    op.drop_table('images')
