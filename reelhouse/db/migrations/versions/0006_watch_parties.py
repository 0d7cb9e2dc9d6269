"""watch parties

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('watch_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('media_file_id', sa.Integer(), nullable=False),
    sa.Column('host_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('position', sa.Float(), nullable=False),
    sa.Column('position_at', sa.Float(), nullable=False),
    sa.Column('rate', sa.Float(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['media_file_id'], ['media_files.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['host_id'], ['users.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    with op.batch_alter_table('watch_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_watch_sessions_media_file_id'), ['media_file_id'], unique=False)

    op.create_table('watch_participants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('joined_at', sa.Float(), nullable=False),
    sa.Column('connected', sa.Boolean(), nullable=False),
    sa.Column('buffering_since', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['session_id'], ['watch_sessions.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('session_id', 'user_id')
    )
    with op.batch_alter_table('watch_participants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_watch_participants_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_watch_participants_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('watch_participants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_watch_participants_user_id'))
        batch_op.drop_index(batch_op.f('ix_watch_participants_session_id'))
    op.drop_table('watch_participants')
    with op.batch_alter_table('watch_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_watch_sessions_media_file_id'))
    op.drop_table('watch_sessions')
