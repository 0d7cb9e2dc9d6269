"""scan jobs: incremental scans and moves

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('media_files', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_hash', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_media_files_content_hash'), ['content_hash'], unique=False)
        batch_op.add_column(sa.Column('part', sa.Integer(), nullable=True))
    with op.batch_alter_table('episodes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_number', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('air_date', sa.String(length=10), nullable=True))
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scan_interval', sa.Integer(), nullable=True))
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancel_requested', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('cancel_requested')
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.drop_column('scan_interval')
    with op.batch_alter_table('episodes', schema=None) as batch_op:
        batch_op.drop_column('air_date')
        batch_op.drop_column('last_number')
    with op.batch_alter_table('media_files', schema=None) as batch_op:
        batch_op.drop_column('part')
        batch_op.drop_index(batch_op.f('ix_media_files_content_hash'))
        batch_op.drop_column('content_hash')
