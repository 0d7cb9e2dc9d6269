"""offline copies with several owners

"Keep offline" kept one copy per file owned by whoever asked first
(``offline_copies.user_id``): a second user got that copy but could neither see nor
release it. ``offline_claims`` holds one row per (copy, user) who wants it; the copy
is removed with its last claim. Each copy's owner keeps a claim; a copy whose owner
was deleted (``user_id`` NULL) has none: it stays, and an admin sees and removes it
(``GET``/``DELETE /api/offline/copies``). The downgrade gives each copy its earliest
claim's user back.

Revision ID: 0024b
Revises: 0024a
"""
from alembic import op
import sqlalchemy as sa


revision = '0024b'
down_revision = '0024a'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'offline_claims',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('copy_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['copy_id'], ['offline_copies.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('copy_id', 'user_id', name='uq_offline_claims_copy_user'),
    )
    op.create_index('ix_offline_claims_user_id', 'offline_claims', ['user_id'])
    op.execute("INSERT INTO offline_claims (copy_id, user_id, created_at) "
               "SELECT id, user_id, created_at FROM offline_copies WHERE user_id IS NOT NULL")
    with op.batch_alter_table('offline_copies') as batch:
        batch.drop_constraint('fk_offline_copies_user_id_users', type_='foreignkey')
        batch.drop_column('user_id')


def downgrade() -> None:
    with op.batch_alter_table('offline_copies') as batch:
        batch.add_column(sa.Column('user_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_offline_copies_user_id_users', 'users', ['user_id'], ['id'],
                                 ondelete='SET NULL')
    op.execute("UPDATE offline_copies SET user_id = (SELECT c.user_id FROM offline_claims c "
               "WHERE c.copy_id = offline_copies.id ORDER BY c.created_at, c.id LIMIT 1)")
    op.drop_index('ix_offline_claims_user_id', table_name='offline_claims')
    op.drop_table('offline_claims')
