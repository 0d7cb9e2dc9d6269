"""a video stream's display rotation

Phone clips are stored sideways with a display matrix that turns them upright;
Jellyfin apps read ``MediaStream.Rotation`` to size and turn the picture.
``media_streams.rotation`` holds the degrees the probe reads (FFmpeg's sign: -90 for
a phone held upright), NULL for none and for files probed before (their next probe
fills it: a changed file, or a new scan after its row is probed again).

Revision ID: 0023a
Revises: 0022f
"""
from alembic import op
import sqlalchemy as sa


revision = '0023a'
down_revision = '0022f'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('media_streams') as batch:
        batch.add_column(sa.Column('rotation', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('media_streams') as batch:
        batch.drop_column('rotation')
