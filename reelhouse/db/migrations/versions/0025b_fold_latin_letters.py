"""library: title keys fold the Latin letters without a decomposition (Ø, Æ, Œ, Ł …)

``search_key`` and ``sort_title`` (reelhouse/db/search_key.py) dropped accents through
NFKD, but letters that do not decompose stayed as they were: "Ørnen" filed under "#"
after "Zodiac" and was not found by "ornen", "Æon Flux" was not under A. Keys now write
those letters in ASCII (``anyascii``: "Ø" → "o", "Æ" → "ae", "Þ" → "th"). This
recomputes the keys of every title that has a non-ASCII character (an ASCII title's
keys do not change), 1,000 rows per statement; the SQLite trigram index follows
through its triggers, PostgreSQL's GIN index by itself. The downgrade writes the keys
as the code before it made them.

Revision ID: 0025b
Revises: 0025a
"""
import re
import unicodedata
from collections.abc import Callable

from alembic import op
import sqlalchemy as sa

from reelhouse.db.search_key import search_key, sort_key


revision = '0025b'
down_revision = '0025a'
branch_labels = None
depends_on = None

_NOT_WORD = re.compile(r"[\W_]+")


def _old_fold(text: str) -> str:
    """The fold of reelhouse/db/search_key.py before 0025b: NFKD without marks, casefold."""
    if not text.isascii():
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return text.casefold()


def _old_search_key(text: str | None) -> str:
    return "".join(c for c in _old_fold(text) if c.isalnum()) if text else ""


def _old_sort_key(text: str | None) -> str:
    if not text:
        return ""
    key = _NOT_WORD.sub(" ", _old_fold(text)).strip()
    for article in ("the ", "a ", "an "):
        if key.startswith(article):
            return key[len(article):]
    return key


def _refold(search: Callable[[str | None], str], sort: Callable[[str | None], str], batch: int = 1000) -> None:
    """Set both keys of every movie and show whose keys differ from ``search(title)`` and
    ``sort(title)``, reading ``batch`` rows at a time in id order."""
    conn = op.get_bind()
    for table in ('movies', 'shows'):
        rows = sa.table(table, sa.column('id', sa.Integer), sa.column('title', sa.String),
                        sa.column('search_key', sa.String), sa.column('sort_title', sa.String))
        update = rows.update().where(rows.c.id == sa.bindparam('b_id')).values(
            search_key=sa.bindparam('b_search'), sort_title=sa.bindparam('b_sort'))
        last = 0
        while True:
            found = conn.execute(sa.select(rows.c.id, rows.c.title, rows.c.search_key, rows.c.sort_title)
                                 .where(rows.c.id > last).order_by(rows.c.id).limit(batch)).all()
            if not found:
                break
            changed = [{'b_id': i, 'b_search': search(t), 'b_sort': sort(t)} for i, t, k, o in found
                       if t and not t.isascii() and (k, o) != (search(t), sort(t))]
            if changed:
                conn.execute(update, changed)
            last = found[-1][0]


def upgrade() -> None:
    _refold(search_key, sort_key)


def downgrade() -> None:
    _refold(_old_search_key, _old_sort_key)
