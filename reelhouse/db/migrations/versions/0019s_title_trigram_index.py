"""library: a trigram index of the titles' search keys

A title search (``search_key LIKE '%key%'``) tested every key of the sort index
(20,000 films: 4.5–5 ms of CPU a search). SQLite gets FTS5 tables with the trigram
tokenizer over ``search_key`` (kept in step by triggers), PostgreSQL GIN indexes with
``gin_trgm_ops`` (pg_trgm; skipped when the role may not create the extension):
:mod:`reelhouse.db.title_index`.

Revision ID: 0019s
Revises: 0018d
"""
from alembic import op

from reelhouse.db import title_index


revision = '0019s'
down_revision = '0018d'
branch_labels = None
depends_on = None


def upgrade() -> None:
    title_index.create(op.get_bind())


def downgrade() -> None:
    title_index.drop(op.get_bind())
