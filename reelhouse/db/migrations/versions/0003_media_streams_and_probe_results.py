"""media streams and probe results

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('media_streams',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('media_file_id', sa.Integer(), nullable=False),
    sa.Column('index', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('codec', sa.String(length=64), nullable=True),
    sa.Column('profile', sa.String(length=64), nullable=True),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('fps', sa.Float(), nullable=True),
    sa.Column('pixel_format', sa.String(length=32), nullable=True),
    sa.Column('bit_depth', sa.Integer(), nullable=True),
    sa.Column('color_transfer', sa.String(length=32), nullable=True),
    sa.Column('color_primaries', sa.String(length=32), nullable=True),
    sa.Column('hdr', sa.String(length=32), nullable=True),
    sa.Column('channels', sa.Integer(), nullable=True),
    sa.Column('channel_layout', sa.String(length=64), nullable=True),
    sa.Column('sample_rate', sa.Integer(), nullable=True),
    sa.Column('language', sa.String(length=16), nullable=True),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('is_forced', sa.Boolean(), nullable=False),
    sa.Column('subtitle_format', sa.String(length=8), nullable=True),
    sa.ForeignKeyConstraint(['media_file_id'], ['media_files.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('media_file_id', 'index')
    )
    with op.batch_alter_table('media_streams', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_media_streams_media_file_id'), ['media_file_id'], unique=False)

    with op.batch_alter_table('media_files', schema=None) as batch_op:
        batch_op.add_column(sa.Column('probe_bytes', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('media_files', schema=None) as batch_op:
        batch_op.drop_column('probe_bytes')

    with op.batch_alter_table('media_streams', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_media_streams_media_file_id'))

    op.drop_table('media_streams')
