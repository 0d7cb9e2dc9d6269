"""one job system: job keys, priorities, payloads, leases; transfers and syncs name their job

Revision ID: 0009
Revises: 0012
"""
import uuid

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('priority', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('payload', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('owner', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('not_before', sa.DateTime(timezone=True), nullable=True))
    conn = op.get_bind()
    jobs = sa.table('jobs', sa.column('id', sa.Integer()), sa.column('key', sa.String()))
    for (ident,) in conn.execute(sa.select(jobs.c.id)).all():
        conn.execute(jobs.update().where(jobs.c.id == ident).values(key=uuid.uuid4().hex))
    # unfinished jobs predate leases: scans run again (queued: consumers announce queued
    # jobs when they start); in-process tasks had no arguments in their row, they end
    conn.execute(sa.text("UPDATE jobs SET state = 'queued' WHERE state = 'running' AND kind = 'scan'"))
    conn.execute(sa.text("UPDATE jobs SET state = 'failed', error = 'interrupted: the process "
                         "running it stopped' WHERE state IN ('queued', 'running') AND kind != 'scan'"))
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.alter_column('key', existing_type=sa.String(length=32), nullable=False)
        batch_op.create_index(batch_op.f('ix_jobs_key'), ['key'], unique=True)
    with op.batch_alter_table('transfers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('job_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_transfers_job_id'), ['job_id'], unique=False)
    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('job_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_sync_runs_job_id'), ['job_id'], unique=False)
    _adopt_transfers(conn)
    conn.execute(sa.text("UPDATE sync_runs SET state = 'failed', finished_at = CURRENT_TIMESTAMP "
                         "WHERE state = 'running'"))


def _adopt_transfers(conn: sa.engine.Connection) -> None:
    """Unfinished transfers get a queued job each (consumers announce queued jobs to the
    queue when they start, so these run)."""
    now = sa.func.current_timestamp()
    transfers = sa.table('transfers', sa.column('id', sa.Integer()), sa.column('state', sa.String()),
                         sa.column('priority', sa.Integer()), sa.column('source_id', sa.Integer()),
                         sa.column('job_id', sa.Integer()))
    jobs = sa.table('jobs', sa.column('id', sa.Integer()), sa.column('kind', sa.String()),
                    sa.column('key', sa.String()), sa.column('state', sa.String()),
                    sa.column('progress', sa.JSON()), sa.column('priority', sa.Integer()),
                    sa.column('created_at', sa.DateTime()), sa.column('source_id', sa.Integer()),
                    sa.column('cancel_requested', sa.Boolean()), sa.column('attempts', sa.Integer()))
    rows = conn.execute(sa.select(transfers.c.id, transfers.c.priority)
                        .where(transfers.c.state.in_(('queued', 'running')))).all()
    for tid, priority in rows:
        key = uuid.uuid4().hex
        conn.execute(jobs.insert().values(kind='transfer', key=key, state='queued', progress={},
                                          priority=priority, created_at=now,
                                          cancel_requested=False, attempts=0))
        job_id = conn.execute(sa.select(jobs.c.id).where(jobs.c.key == key)).scalar_one()
        conn.execute(transfers.update().where(transfers.c.id == tid)
                     .values(job_id=job_id, state='queued'))


def downgrade() -> None:
    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_runs_job_id'))
        batch_op.drop_column('job_id')
    with op.batch_alter_table('transfers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transfers_job_id'))
        batch_op.drop_column('job_id')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jobs_key'))
        batch_op.drop_column('not_before')
        batch_op.drop_column('attempts')
        batch_op.drop_column('lease_until')
        batch_op.drop_column('owner')
        batch_op.drop_column('payload')
        batch_op.drop_column('priority')
        batch_op.drop_column('key')
